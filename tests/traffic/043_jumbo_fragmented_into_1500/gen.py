#!/usr/bin/python3
"""Jumbo frames into a 1500-byte tunnel: a VM on a 9000-byte access port
sends a 9000-byte IPv4 packet without DF to a moved VM; the fabric and the
tunnel stay at 1500, so it is fragmented (RFC 791: 7 fragments of at most
1480 bytes, data a multiple of 8) and each fragment is tunnelled. A
9000-byte packet with DF gets Fragmentation Needed, MTU 1480."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402

vm = [
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=0x101) / UDP(sport=40001, dport=40100) / payload(9000 - 28, 1)),
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=0x102, flags="DF") / UDP(sport=40002, dport=40100) / payload(9000 - 28, 2)),
]
f = Fabric(mtu=1500)
expect0 = f.tunnel(frame_ip(vm[0]), PEER_NVE4)
assert len(expect0) == 7, len(expect0)
expect1 = [icmp_error(vm[1], 1, ICMP_UNREACH, ICMP_FRAG_NEEDED, f.too_big_mtu(PEER_NVE4, 4))]
write_scenario(HERE, 2, {1: vm}, {0: expect0, 1: expect1})
