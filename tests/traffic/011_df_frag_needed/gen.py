#!/usr/bin/python3
"""IPv4 with DF that does not fit the tunnel (inner + outer header > tunnel
MTU 1500): ICMP Destination Unreachable / Fragmentation Needed (RFC 1191)
with next-hop MTU 1480 (IPv4 outer) or 1460 (IPv6 outer), back out the
ingress port. One byte less fits and is tunnelled. Local delivery has no
tunnel MTU."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402


def dgram(dst, total, seed, src=VM_A4):
    return IP(src=src, dst=dst, ttl=64, flags="DF", id=seed) / UDP(sport=40000 + seed, dport=40100) / payload(total - 28, seed)


fab = [from_gw(dgram(MOVED_V4NVE_4, 1481, 1, src=REMOTE4))]
vm = [
    from_vm(dgram(MOVED_V4NVE_4, 1481, 2)),
    from_vm(dgram(MOVED_V4NVE_4, 1480, 3)),
    from_vm(dgram(MOVED_V6NVE_4, 1461, 4)),
    from_vm(dgram(MOVED_V6NVE_4, 1460, 5)),
    from_vm(dgram(VM_B4, 1481, 6)),
]
f = Fabric()
expect0 = [icmp_error(fab[0], 0, ICMP_UNREACH, ICMP_FRAG_NEEDED, f.too_big_mtu(PEER_NVE4, 4))]
expect1 = [icmp_error(vm[0], 1, ICMP_UNREACH, ICMP_FRAG_NEEDED, f.too_big_mtu(PEER_NVE4, 4))]
expect0 += f.tunnel(frame_ip(vm[1]), PEER_NVE4)
expect1 += [icmp_error(vm[2], 1, ICMP_UNREACH, ICMP_FRAG_NEEDED, f.too_big_mtu(PEER_NVE6, 4))]
expect0 += f.tunnel(frame_ip(vm[3]), PEER_NVE6)
expect1 += [deliver(frame_ip(vm[4]), VM_B_MAC)]
assert f.too_big_mtu(PEER_NVE4, 4) == 1480 and f.too_big_mtu(PEER_NVE6, 4) == 1460
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0, 1: expect1})
