#!/usr/bin/python3
"""No host route, default_action: forward: the packet goes to the fabric
gateway (its MAC, from the fabric port's MAC) with TTL - 1, from VMs and
from the fabric alike; IPv4 and IPv6."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

fab = [
    from_gw(IP(src=REMOTE4, dst="10.2.3.4", ttl=64, id=1) / UDP(sport=40000, dport=40001) / payload(30, 1)),
    from_gw(IPv6(src=REMOTE6, dst="fd02::4", hlim=2) / UDP(sport=40000, dport=40001) / payload(30, 2)),
]
vm = [
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=64, flags="DF", id=3) / TCP(sport=40100, dport=40101, flags="S")),
    from_vm(IPv6(src=VM_A6, dst=REMOTE6, hlim=64, tc=0x28) / UDP(sport=40200, dport=40201) / payload(1400, 4)),
    # An address next to the local VMs but not configured: also the gateway.
    from_vm(IP(src=VM_A4, dst="10.0.0.7", ttl=64, id=5) / UDP(sport=40300, dport=40301) / payload(10, 5)),
    from_vm(IPv6(src=VM_A6, dst="fd00::7", hlim=64) / UDP(sport=40300, dport=40301) / payload(10, 6)),
]
expect0 = [to_gateway(frame_ip(fr)) for fr in fab + vm]
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0})
