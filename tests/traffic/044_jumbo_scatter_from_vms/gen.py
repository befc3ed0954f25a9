#!/usr/bin/python3
"""Jumbo frames received as chains of 2 KiB mbufs (workers.rx_scatter): a VM's
9000-byte packets take every path a one-segment packet takes and leave with
the bytes they would have left with from one large mbuf (scenarios 040, 042):
encapsulated whole into a 9000-byte tunnel (IPv4 and IPv6 outer), one byte too
big and fragmented (no DF: the fragmenter reads the chain's payload segment
by segment), or answered with Fragmentation Needed / Packet Too Big (DF,
IPv6; the quote is cut from the chain's first segment). net_pcap sends no
chains, so every chained output is copied into one mbuf (tx_linearized)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

vm = [
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=1) / UDP(sport=40001, dport=40100) / payload(8980 - 28, 1)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64) / UDP(sport=40002, dport=40100) / payload(8960 - 48, 2)),
    # One byte too big for the tunnel, without DF: two fragments.
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=3) / UDP(sport=40003, dport=40100) / payload(8981 - 28, 3)),
    # The same with DF, and IPv6 one byte too big: ICMP errors back.
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=4, flags="DF") / UDP(sport=40004, dport=40100) / payload(8981 - 28, 4)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64) / UDP(sport=40005, dport=40100) / payload(8961 - 48, 5)),
]
f = Fabric(mtu=9000)
expect0 = (f.tunnel(frame_ip(vm[0]), PEER_NVE4) + f.tunnel(frame_ip(vm[1]), PEER_NVE6)
           + f.tunnel(frame_ip(vm[2]), PEER_NVE4))
assert len(expect0) == 4
expect1 = [icmp_error(vm[3], 1, ICMP_UNREACH, ICMP_FRAG_NEEDED, f.too_big_mtu(PEER_NVE4, 4)),
           icmp_error(vm[4], 1, ICMP6_TOO_BIG, 0, f.too_big_mtu(PEER_NVE6, 6))]
write_scenario(HERE, 2, {1: vm}, {0: expect0, 1: expect1})
