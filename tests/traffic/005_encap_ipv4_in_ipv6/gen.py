#!/usr/bin/python3
"""IPv4 in IPv6 (RFC 2473) to a moved VM's IPv6-only NVE: traffic class =
inner TOS, flow label from the inner addresses, ports (unfragmented
TCP/UDP/SCTP only) and protocol; inner TTL - 1."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, ICMP, TCP, UDP  # noqa: E402
from scapy.layers.sctp import SCTP, SCTPChunkData  # noqa: E402

M = MOVED_V6NVE_4
fab = [
    from_gw(IP(src=REMOTE4, dst=M, ttl=9, id=3) / UDP(sport=40300, dport=40301) / payload(64, 9)),
]
udp = UDP(sport=40500, dport=40501) / payload(300, 5)
vm = [
    from_vm(IP(src=VM_A4, dst=M, ttl=64, flags="DF") / UDP(sport=40000, dport=40001) / payload(200, 1)),
    from_vm(IP(src=VM_A4, dst=M, ttl=64, tos=0x28, id=500) / TCP(sport=40100, dport=40101, flags="S")),
    from_vm(IP(src=VM_A4, dst=M, ttl=2, tos=0xb8) / ICMP(type=8, id=5, seq=6) / payload(56, 2)),
    from_vm(IP(src=VM_A4, dst=M, ttl=64) / SCTP(sport=40400, dport=40401, tag=1)
            / SCTPChunkData(tsn=1, data=payload(30, 3))),
    # Fragments of one UDP datagram (as another router made them): the
    # first one (MF) and the last one (offset) both hash without ports.
    from_vm(IP(src=VM_A4, dst=M, ttl=64, id=0x777, proto=17, flags="MF", frag=0) / bytes(udp)[:104]),
    from_vm(IP(src=VM_A4, dst=M, ttl=64, id=0x777, proto=17, frag=13) / bytes(udp)[104:]),
]

f = Fabric()
expect0 = []
for fr in fab + vm:
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE6)
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0})
