#!/usr/bin/python3
"""Decapsulation of tunnels with an IPv4 outer header addressed to us
(protocol 4 and 41): the inner packet is forwarded like a native fabric
packet, TTL - 1, here to the local VMs (and, without a route, to the
gateway)."""
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
    IP(src=REMOTE4, dst=VM_B4, ttl=2, flags="DF", tos=0x20) / UDP(sport=40200, dport=40201) / payload(20, 2),
    # Decapsulated, then no host route: to the fabric gateway.
    IP(src=VM_A4, dst="10.9.9.9", ttl=40) / UDP(sport=40300, dport=40301) / payload(30, 3),
]
fab = [
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=60, flags="DF", proto=4) / inner[0]),
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=1, id=99, proto=41) / inner[1]),  # outer TTL is not checked
    from_gw(IP(src=PEER_NVE4, dst=NVE4, ttl=64, tos=0x20, proto=4) / inner[2]),
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=64, proto=4) / inner[3]),
]
expect1 = [
    deliver(bytes(inner[0]), VM_A_MAC),
    deliver(bytes(inner[1]), VM_B_MAC),
    deliver(bytes(inner[2]), VM_B_MAC),
]
expect0 = [to_gateway(bytes(inner[3]))]
write_scenario(HERE, 2, {0: fab}, {0: expect0, 1: expect1})
