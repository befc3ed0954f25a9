#!/usr/bin/python3
"""Malformed frames, each dropped on its named counter; nothing is sent.
Every packet would otherwise be delivered to VM A (10.0.0.5 / fd00::5)."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402


def v4(src=REMOTE4):
    return bytes(IP(src=src, dst=VM_A4, ttl=64, id=1) / UDP(sport=40000, dport=40001) / payload(40, 1))


def v6(src=REMOTE6):
    return bytes(IPv6(src=src, dst=VM_A6, hlim=64) / UDP(sport=40000, dport=40001) / payload(40, 2))


def patched(b, off, val, fix_csum=True):
    """b with bytes at off replaced (IPv4 header checksum recomputed)."""
    b = bytearray(b)
    b[off:off + len(val)] = val
    if fix_csum and ip_version(b) == 4 and len(b) >= 20 and ipv4_ihl(b) >= 20:
        ipv4_fix_checksum(b)
    return bytes(b)


eth4 = l2(port_mac(0), GW_MAC, ETH_IPV4)
eth6 = l2(port_mac(0), GW_MAC, ETH_IPV6)
good4 = v4()
cases = [
    # (frame, counter)
    (eth4[:10], "drop_l2_truncated"),                                       # shorter than Ethernet
    (l2(port_mac(0), GW_MAC, ETH_VLAN)[:12] + b"\x81\x00\x00", "drop_l2_truncated"),  # cut in the VLAN tag
    (l2(port_mac(0), GW_MAC, ETH_IPV4, vlan_tci=100) + good4, "drop_vlan_mismatch"),  # tagged on the fabric
    (eth4 + good4[:19], "drop_ipv4_truncated"),                             # 19-byte IPv4 header
    (eth4 + patched(good4, 0, b"\x44", fix_csum=False), "drop_ipv4_bad_ihl"),  # IHL 4
    (eth4 + patched(good4, 0, b"\x4f", fix_csum=False)[:40], "drop_ipv4_bad_ihl"),  # IHL 15 > 40 bytes
    (eth4 + patched(good4, 2, struct.pack("!H", len(good4) + 1)), "drop_ipv4_bad_length"),  # beyond the frame
    (eth4 + patched(good4, 2, struct.pack("!H", 19)), "drop_ipv4_bad_length"),  # below the header
    (eth4 + patched(good4, 10, b"\xde\xad", fix_csum=False), "drop_ipv4_bad_checksum"),
    (eth4 + v6(), "drop_ipv4_bad_version"),                                 # IPv4 EtherType, version 6
    (eth4 + v4(src="127.0.0.1"), "drop_ipv4_bad_source"),
    (eth4 + v4(src="224.0.0.5"), "drop_ipv4_bad_source"),
    (eth4 + v4(src="255.255.255.255"), "drop_ipv4_bad_source"),
    (eth6 + v6()[:39], "drop_ipv6_truncated"),                              # 39-byte IPv6 header
    (eth6 + good4 + b"\0" * 20, "drop_ipv6_bad_version"),                   # IPv6 EtherType, version 4
    (eth6 + patched(v6(), 4, struct.pack("!H", 49)), "drop_ipv6_bad_length"),  # payload 48 bytes, says 49
    (eth6 + v6(src="ff02::1"), "drop_ipv6_bad_source"),
    (eth6 + v6(src="::1"), "drop_ipv6_bad_source"),
    (l2(port_mac(0), GW_MAC, 0x88B5) + payload(46, 3), "drop_l2_unsupported"),  # local experimental EtherType
    # Tunnels to us with a bad inner packet.
    (eth4 + bytes(IP(src=OLD_NVE4, dst=NVE4, proto=4) / v6()), "drop_decap_inner_bad"),  # protocol 4, inner IPv6
    (eth6 + bytes(IPv6(src=OLD_NVE6, dst=NVE6, nh=41) / good4), "drop_decap_inner_bad"),  # next header 41, inner IPv4
    (eth4 + bytes(IP(src=OLD_NVE4, dst=NVE4, proto=4) / good4[:10]), "drop_ipv4_truncated"),  # inner cut short
    (eth4 + bytes(IP(src=OLD_NVE4, dst=NVE4, proto=4) / patched(good4, 10, b"\xde\xad", fix_csum=False)),
     "drop_ipv4_bad_checksum"),
    (eth6 + bytes(IPv6(src=OLD_NVE6, dst=NVE6, nh=41) / v6()[:30]), "drop_ipv6_truncated"),
    # An outer fragment: nved does not reassemble.
    (eth4 + bytes(IP(src=OLD_NVE4, dst=NVE4, proto=4, flags="MF", id=9) / good4), "drop_decap_fragmented"),
    # Longer than the port's mtu (1500) allows: a NIC drops it; net_pcap
    # passes it (in a chain of two mbufs).
    (eth4 + bytes(IP(src=REMOTE4, dst=VM_A4, ttl=64) / UDP(sport=40000, dport=40001) / payload(2100, 4)),
     "drop_frame_too_long"),
]
counters = {}
for _frame, name in cases:
    counters[name] = counters.get(name, 0) + 1
if __name__ == "__main__" and "--counters" in sys.argv:
    for k in sorted(counters):
        print("  %s: %d" % (k, counters[k]))
write_scenario(HERE, 2, {0: [c[0] for c in cases]}, {})
