#!/usr/bin/python3
"""No host route, default_action: drop: the packets of 022_default_forward
are dropped (drop_no_route); packets with a route still go through."""
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
    from_gw(IP(src=REMOTE4, dst=VM_A4, ttl=64, id=7) / UDP(sport=40400, dport=40401) / payload(10, 7)),  # routed
]
vm = [
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=64, flags="DF", id=3) / TCP(sport=40100, dport=40101, flags="S")),
    from_vm(IPv6(src=VM_A6, dst=REMOTE6, hlim=64, tc=0x28) / UDP(sport=40200, dport=40201) / payload(1400, 4)),
    from_vm(IP(src=VM_A4, dst="10.0.0.7", ttl=64, id=5) / UDP(sport=40300, dport=40301) / payload(10, 5)),
    from_vm(IPv6(src=VM_A6, dst="fd00::7", hlim=64) / UDP(sport=40300, dport=40301) / payload(10, 6)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64) / UDP(sport=40500, dport=40501) / payload(10, 8)),  # routed
]
f = Fabric()
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: f.tunnel(frame_ip(vm[4]), PEER_NVE6), 1: [deliver(frame_ip(fab[2]), VM_A_MAC)]})
