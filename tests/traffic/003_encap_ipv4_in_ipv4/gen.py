#!/usr/bin/python3
"""IPv4-in-IPv4 (RFC 2003) to the NVE a VM moved to: outer TOS copied, DF
copied from the inner header (ID 0 then), otherwise IDs 1, 2, 3... in the
order the worker handles the packets; outer TTL 64; inner TTL - 1."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, ICMP, TCP, UDP  # noqa: E402

M = MOVED_V4NVE_4
# A native fabric packet for the moved VM is tunnelled too (hairpin).
fab = [
    from_gw(IP(src=REMOTE4, dst=M, ttl=50, id=0x4242) / UDP(sport=40300, dport=40301) / payload(64, 9)),
]
vm = [
    from_vm(IP(src=VM_A4, dst=M, ttl=64, flags="DF") / UDP(sport=40000, dport=40001) / payload(200, 1)),
    from_vm(IP(src=VM_A4, dst=M, ttl=64, id=1000) / TCP(sport=40100, dport=40101, flags="S", seq=12345)),
    from_vm(IP(src=VM_A4, dst=M, ttl=2, tos=0xb8, id=1001) / ICMP(type=8, id=5, seq=6) / payload(56, 2)),
    from_vm(IP(src=VM_A4, dst=M, ttl=64, tos=0x48, flags="DF", id=77) / UDP(sport=40200, dport=40201)
            / payload(1000, 3)),
]

f = Fabric()
expect0 = []
for fr in fab + vm:  # port 0's burst is handled first
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE4)
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0})
