#!/usr/bin/python3
"""Steps: a route goes away under traffic. A VM's packets are delivered; after
`route del`, the default action (forward) sends them to the fabric gateway;
a moved VM's tunnel is deleted too and its packets follow the same default.
Deleting a route that is not there is refused, and changes nothing."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402


def to_vm(seq, dst):
    return from_vm(IP(src=VM_A4, dst=dst, ttl=64, id=0x400 + seq) / UDP(sport=40030, dport=40031)
                   / payload(90, seq))


before = [to_vm(1, VM_B4), to_vm(2, MOVED_V4NVE_4), to_vm(3, VM_B4)]
after = [to_vm(4, VM_B4), to_vm(5, MOVED_V4NVE_4)]
f = Fabric()
expect0 = f.tunnel(frame_ip(before[1]), PEER_NVE4) + [to_gateway(frame_ip(fr)) for fr in after]
expect1 = [deliver(frame_ip(before[0]), VM_B_MAC), deliver(frame_ip(before[2]), VM_B_MAC)]
write_stepped_scenario(HERE, 2, {"1": {1: before}, "2": {1: after}}, {0: expect0, 1: expect1})
