#!/usr/bin/python3
"""Tenants over the fabric (issue 14): two VMs in VN 0 and VN 5 share the
addresses 10.0.0.5 and fd00::5. A tunnel to this NVE's VN 0 endpoint
(192.0.2.1) reaches VN 0's VM, a tunnel to the VN 5 endpoint (192.0.2.5, or
2001:db8::5 over IPv6) reaches VN 5's VM: neither tenant ever gets the
other's packet. ARP for the VN 5 endpoint is answered. A tunnel from a host
outside tunnel.peers is dropped (drop_decap_unknown_peer), whichever
endpoint it names; so is a tunnel inside a tunnel (drop_decap_nested)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import ARP, Ether  # noqa: E402

VN5_ENDPOINT4, VN5_ENDPOINT6 = "192.0.2.5", "2001:db8::5"
VN5_MAC = "02:00:00:00:05:05"
STRANGER = "203.0.113.9"


def inner4(tag):
    return IP(src=REMOTE4, dst=VM_A4, ttl=64, id=tag) / UDP(sport=41000 + tag, dport=42000) / payload(60, tag)


def inner6(tag):
    return IPv6(src=REMOTE6, dst=VM_A6, hlim=64) / UDP(sport=41000 + tag, dport=42000) / payload(60, tag)


arp = Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=GW_MAC, psrc="192.0.2.254", pdst=VN5_ENDPOINT4)
fab = [
    bytes(arp),
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=64, proto=4) / inner4(1)),            # VN 0
    from_gw(IP(src=OLD_NVE4, dst=VN5_ENDPOINT4, ttl=64, proto=4) / inner4(2)),   # VN 5
    from_gw(IPv6(src=OLD_NVE6, dst=VN5_ENDPOINT6, hlim=64, nh=41) / inner6(3)),  # VN 5 over IPv6
    from_gw(IPv6(src=OLD_NVE6, dst=NVE6, hlim=64, nh=41) / inner6(4)),           # VN 0 over IPv6
    from_gw(IP(src=STRANGER, dst=VN5_ENDPOINT4, ttl=64, proto=4) / inner4(5)),   # not an NVE
    from_gw(IP(src=STRANGER, dst=NVE4, ttl=64, proto=4) / inner4(6)),            # not an NVE
    # A tunnel inside a tunnel to us: never decapsulated twice.
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=64, proto=4)
            / IP(src=OLD_NVE4, dst=VN5_ENDPOINT4, ttl=64, proto=4) / inner4(7)),
]
# ARP and other answers leave before the burst's forwarded packets.
expect0 = [arp_reply(fab[0], FABRIC)]
expect1 = [deliver(bytes(inner4(1)), VM_A_MAC), deliver(bytes(inner6(4)), VM_A_MAC)]
expect2 = [deliver(bytes(inner4(2)), VN5_MAC, port=2), deliver(bytes(inner6(3)), VN5_MAC, port=2)]
write_scenario(HERE, 3, {0: fab}, {0: expect0, 1: expect1, 2: expect2})
