#!/usr/bin/python3
"""Steps: a local VM's route becomes a tunnel while its traffic flows (the VM
moved). Packets before the change are delivered on the access port; after
`route add ... tunnel`, the same flow leaves the fabric port in IPv4-in-IPv4
toward the new NVE, while the VM's IPv6 address (not changed) is still
delivered."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402


def flow(seq):
    return from_gw(IP(src=REMOTE4, dst=VM_A4, ttl=64, id=0x100 + seq) / UDP(sport=40000, dport=40001)
                   / payload(120, seq))


v6 = [from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=64) / UDP(sport=40002, dport=40003) / payload(80, 9))]
before = [flow(1), flow(2)] + v6
after = [flow(3), flow(4), flow(5)]
after_v6 = [from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=9) / UDP(sport=40002, dport=40003) / payload(80, 10))]

f = Fabric()
expect0 = []
for fr in after:
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE4)
expect1 = [deliver(frame_ip(fr), VM_A_MAC) for fr in before + after_v6]
write_stepped_scenario(HERE, 2, {"1": {0: before}, "2": {0: after + after_v6}}, {0: expect0, 1: expect1})
