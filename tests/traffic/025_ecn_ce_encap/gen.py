#!/usr/bin/python3
"""ECN at encapsulation (RFC 6040 normal mode, dscp: copy): the outer ECN
field is the inner one, CE included, for all four tunnel families and every
codepoint; DSCP copied too."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

FAMILIES = [  # (inner IPv6?, destination, NVE)
    (False, MOVED_V4NVE_4, PEER_NVE4),
    (True, MOVED_V6NVE_6, PEER_NVE6),
    (False, MOVED_V6NVE_4, PEER_NVE6),
    (True, MOVED_V4NVE_6, PEER_NVE4),
]
vm, nves = [], []
n = 0
for ecn in (CE, ECT0, ECT1, NOT_ECT):
    for v6, dst, nve in FAMILIES:
        l4 = UDP(sport=40000 + n, dport=40100 + n) / payload(30 + n, n)
        tos = (26 << 2) | ecn  # AF31
        if v6:
            ip = IPv6(src=VM_A6, dst=dst, hlim=64, tc=tos) / l4
        else:
            ip = IP(src=VM_A4, dst=dst, ttl=64, tos=tos, id=n, flags="DF" if n % 2 else 0) / l4
        vm.append(from_vm(ip))
        nves.append(nve)
        n += 1
f = Fabric()
expect0 = []
for fr, nve in zip(vm, nves):
    out = f.tunnel(frame_ip(fr), nve)
    outer = frame_ip(out[0])
    assert ecn_of(outer) == ecn_of(frame_ip(fr))
    expect0 += out
write_scenario(HERE, 2, {1: vm}, {0: expect0})
