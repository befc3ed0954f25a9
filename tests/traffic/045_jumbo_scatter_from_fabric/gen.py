#!/usr/bin/python3
"""Jumbo frames received as chains of 2 KiB mbufs (workers.rx_scatter), from
the fabric: 9000-byte IPv4-in-IPv4 and IPv6-in-IPv6 decapsulated (the outer
header removed from the first segment, the chain trimmed to the inner packet)
and delivered, a native 9000-byte packet delivered, and a 9000-byte ping to
this NVE answered whole (ping -s 8972 -M do, how an operator checks a jumbo
path). Bytes as from one large mbuf (scenario 041)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import ICMP, IP, UDP  # noqa: E402

decap = scenario("041_jumbo_decap")  # its two tunnelled packets, and what they become
fab = decap.fab + [
    from_gw(IP(src=REMOTE4, dst=VM_B4, ttl=64, id=12, flags="DF") / UDP(sport=40200, dport=40201) / payload(9000 - 28, 3)),
    from_gw(IP(src=REMOTE4, dst=NVE4, ttl=64, id=13, flags="DF") / ICMP(type=8, id=99, seq=1) / payload(9000 - 28, 4)),
]
assert all(len(bytes(f)) == 14 + 9000 for f in fab)
expect0 = [echo_reply(fab[3], 0)]
expect1 = decap.expect1 + [deliver(frame_ip(fab[2]), VM_B_MAC)]
write_scenario(HERE, 2, {0: fab}, {0: expect0, 1: expect1})
