#!/usr/bin/python3
"""Steps: a VM comes back. Its packets are tunnelled to the NVE it had moved
to until `route add ... local vms MAC`; from then on the same flow is
delivered on the access port, to the VM's MAC, with nothing of the tunnel
left (IPv6 address too)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, TCP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

BACK_MAC = "02:00:00:00:01:09"


def flow4(seq):
    return from_gw(IP(src=REMOTE4, dst=MOVED_V4NVE_4, ttl=60, id=0x300 + seq, flags="DF")
                   / TCP(sport=40020, dport=80, flags="PA", seq=1000 * seq) / payload(200, seq))


def flow6(seq):
    return from_gw(IPv6(src=REMOTE6, dst=MOVED_V4NVE_6, hlim=60) / TCP(sport=40021, dport=80, flags="PA",
                                                                     seq=1000 * seq) / payload(150, seq))


before = [flow4(1), flow6(2), flow4(3)]
after = [flow4(4), flow6(5), flow4(6)]
f = Fabric()
expect0 = []
for fr in before:
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE4)
expect1 = [deliver(frame_ip(fr), BACK_MAC) for fr in after]
write_stepped_scenario(HERE, 2, {"1": {0: before}, "2": {0: after}}, {0: expect0, 1: expect1})
