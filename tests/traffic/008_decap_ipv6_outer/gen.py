#!/usr/bin/python3
"""Decapsulation of tunnels with an IPv6 outer header addressed to us (next
header 4 and 41), delivery with TTL - 1; RFC 6040 combines the ECN fields:
a CE outer marks an ECN-capable inner packet CE, ECT(1) outer turns ECT(0)
inner into ECT(1)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

inner = [
    IP(src=REMOTE4, dst=VM_A4, ttl=64, id=11) / UDP(sport=40000, dport=40001) / payload(200, 1),
    IPv6(src=REMOTE6, dst=VM_B6, hlim=64, fl=0x11111) / TCP(sport=40100, dport=40101, flags="S"),
    IPv6(src=REMOTE6, dst=VM_A6, hlim=9, tc=0x28 | ECT0) / UDP(sport=40200, dport=40201) / payload(70, 2),
    IP(src=REMOTE4, dst=VM_B4, ttl=64, tos=0x48 | ECT0, id=0xbeef) / UDP(sport=40300, dport=40301) / payload(9, 3),
]
fab = [
    from_gw(IPv6(src=OLD_NVE6, dst=NVE6, hlim=60, nh=4) / inner[0]),
    from_gw(IPv6(src=OLD_NVE6, dst=NVE6, hlim=1, nh=41, fl=7) / inner[1]),  # outer hop limit is not checked
    from_gw(IPv6(src=PEER_NVE6, dst=NVE6, hlim=64, nh=41, tc=CE) / inner[2]),
    from_gw(IPv6(src=OLD_NVE6, dst=NVE6, hlim=64, nh=4, tc=0xb8 | ECT1) / inner[3]),
]
expect1 = [
    deliver(bytes(inner[0]), VM_A_MAC),
    deliver(bytes(inner[1]), VM_B_MAC),
    deliver(set_ecn(bytes(inner[2]), RFC6040_DECAP[ECT0][CE][0]), VM_A_MAC),
    deliver(set_ecn(bytes(inner[3]), RFC6040_DECAP[ECT0][ECT1][0]), VM_B_MAC),
]
write_scenario(HERE, 2, {0: fab}, {1: expect1})
