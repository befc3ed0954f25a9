#!/usr/bin/python3
"""Jumbo frames, too big for the tunnel: one byte more than fits a 9000-byte
tunnel, with DF (IPv4) or as IPv6 (never fragmented by a router), is answered
with ICMP Fragmentation Needed, MTU 8980 (RFC 1191), or ICMPv6 Packet Too
Big, MTU 8960 (RFC 8201), back out the VM's port; the quote is the IPv4
header and 8 bytes (RFC 792), or what fits 1280 bytes (RFC 4443 2.4(c))."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

vm = [
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=1, flags="DF") / UDP(sport=40001, dport=40100) / payload(8981 - 28, 1)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64) / UDP(sport=40002, dport=40100) / payload(8961 - 48, 2)),
]
f = Fabric(mtu=9000)
assert f.too_big_mtu(PEER_NVE4, 4) == 8980 and f.too_big_mtu(PEER_NVE6, 6) == 8960
expect1 = [icmp_error(vm[0], 1, ICMP_UNREACH, ICMP_FRAG_NEEDED, f.too_big_mtu(PEER_NVE4, 4)),
           icmp_error(vm[1], 1, ICMP6_TOO_BIG, 0, f.too_big_mtu(PEER_NVE6, 6))]
write_scenario(HERE, 2, {1: vm}, {1: expect1})
