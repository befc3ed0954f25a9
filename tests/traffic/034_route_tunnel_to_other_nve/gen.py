#!/usr/bin/python3
"""Steps: a moved VM moves again while its packets are in flight. Its IPv4
address tunnels to the IPv4 NVE (RFC 2003), then, after `route add ...
tunnel 2001:db8::2`, to an IPv6 NVE (4-in-6, RFC 2473): the outer family
changes with the route, the inner packet does not."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402

M = MOVED_V4NVE_4


def flow(seq, port=1):
    pkt = IP(src=VM_A4 if port == 1 else REMOTE4, dst=M, ttl=64, id=0x200 + seq) / UDP(sport=40010, dport=40011) \
        / payload(100 + seq, seq)
    return from_vm(pkt) if port == 1 else from_gw(pkt)


before = {0: [flow(1, 0)], 1: [flow(2), flow(3)]}
after = {0: [flow(4, 0)], 1: [flow(5), flow(6)]}

f = Fabric()
expect0 = []
for fr in before[0] + before[1]:  # port 0's burst is handled first
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE4)
for fr in after[0] + after[1]:
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE6)
write_stepped_scenario(HERE, 2, {"1": before, "2": after}, {0: expect0})
