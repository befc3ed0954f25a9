#!/usr/bin/python3
"""IPv6 too big for the tunnel (inner + outer header > 1500): ICMPv6 Packet
Too Big (RFC 4443 3.2) with MTU 1460 (IPv6 outer) or 1480 (IPv4 outer),
quoting as much of the packet as fits in 1280 bytes; one byte less is
tunnelled. No Packet Too Big about an ICMPv6 error."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import UDP  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6DestUnreach  # noqa: E402


def dgram(dst, total, seed, src=VM_A6):
    return IPv6(src=src, dst=dst, hlim=64, tc=0x28, fl=seed) / UDP(sport=40000 + seed, dport=40100) / payload(total - 48, seed)


fab = [from_gw(dgram(MOVED_V6NVE_6, 1500, 1, src=REMOTE6))]
vm = [
    from_vm(dgram(MOVED_V6NVE_6, 1461, 2)),
    from_vm(dgram(MOVED_V6NVE_6, 1460, 3)),
    from_vm(dgram(MOVED_V4NVE_6, 1481, 4)),
    from_vm(dgram(MOVED_V4NVE_6, 1480, 5)),
    # An ICMPv6 error that is too big is dropped without an error about it.
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64) / ICMPv6DestUnreach(code=1) / payload(1461 - 48, 6)),
]
f = Fabric()
assert f.too_big_mtu(PEER_NVE6, 6) == 1460 and f.too_big_mtu(PEER_NVE4, 6) == 1480
expect0 = [icmp_error(fab[0], 0, ICMP6_TOO_BIG, 0, f.too_big_mtu(PEER_NVE6, 6))]
expect1 = [icmp_error(vm[0], 1, ICMP6_TOO_BIG, 0, f.too_big_mtu(PEER_NVE6, 6))]
expect0 += f.tunnel(frame_ip(vm[1]), PEER_NVE6)
expect1 += [icmp_error(vm[2], 1, ICMP6_TOO_BIG, 0, f.too_big_mtu(PEER_NVE4, 6))]
expect0 += f.tunnel(frame_ip(vm[3]), PEER_NVE4)
assert all(len(e) == 14 + 1280 for e in expect0[:1] + expect1)  # quotes cut at the minimum MTU
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0, 1: expect1})
