#!/usr/bin/python3
"""RFC 6040 section 4.2 (Figure 4), all 16 combinations of arriving inner
(rows) and outer (columns) ECN field at decapsulation, each delivered to a
local VM with TTL - 1 and the inner DSCP kept. CE outer on a Not-ECT inner
packet is dropped. The four tunnel families take turns (4-in-4, 6-in-6,
6-in-4, 4-in-6), so each appears four times."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

ORDER = [NOT_ECT, ECT0, ECT1, CE]  # the RFC's row / column order
INNER_DSCP, OUTER_DSCP = 10, 46
fab, expect1 = [], []
logged = dropped = 0
for r, inner_ecn in enumerate(ORDER):
    for c, outer_ecn in enumerate(ORDER):
        n = r * 4 + c
        outer_v6, inner_v6 = [(False, False), (True, True), (False, True), (True, False)][n % 4]
        udp = UDP(sport=41000 + n, dport=42000 + n) / payload(40 + n, n)
        itos = (INNER_DSCP << 2) | inner_ecn
        if inner_v6:
            inner = IPv6(src=REMOTE6, dst=VM_A6, hlim=64, tc=itos) / udp
        else:
            inner = IP(src=REMOTE4, dst=VM_A4, ttl=64, tos=itos, id=n) / udp
        otos = (OUTER_DSCP << 2) | outer_ecn
        if outer_v6:
            outer = IPv6(src=OLD_NVE6, dst=NVE6, hlim=64, tc=otos, nh=41 if inner_v6 else 4)
        else:
            outer = IP(src=OLD_NVE4, dst=NVE4, ttl=64, tos=otos, id=100 + n, proto=41 if inner_v6 else 4)
        fab.append(from_gw(outer / inner))
        new_ecn, log = RFC6040_DECAP[inner_ecn][outer_ecn]
        logged += log
        if new_ecn is None:
            dropped += 1
        else:
            expect1.append(deliver(set_ecn(bytes(inner), new_ecn), VM_A_MAC))
assert (logged, dropped, len(expect1)) == (4, 1, 15)
write_scenario(HERE, 2, {0: fab}, {1: expect1})
