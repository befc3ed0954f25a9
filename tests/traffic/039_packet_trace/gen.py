#!/usr/bin/python3
"""Steps: a packet trace. `trace add fabric 2` arms the worker; of three
packets from the fabric (to a moved VM, a local VM, the moved VM again) the
first two are recorded with what arrived, the counters they moved and what
left; the third is forwarded like the others but not recorded. `explain`
says what the fast path does for an address, `clear trace` forgets."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402


def to(dst, seq):
    return from_gw(IP(src=REMOTE4, dst=dst, ttl=60, id=0x390 + seq) / UDP(sport=40040, dport=5001)
                   / payload(40, seq))


frames = [to(MOVED_V4NVE_4, 1), to(VM_A4, 2), to(MOVED_V4NVE_4, 3)]
f = Fabric()
expect0 = f.tunnel(frame_ip(frames[0]), PEER_NVE4) + f.tunnel(frame_ip(frames[2]), PEER_NVE4)
expect1 = [deliver(frame_ip(frames[1]), VM_A_MAC)]
write_stepped_scenario(HERE, 2, {"1": {0: frames}}, {0: expect0, 1: expect1})
