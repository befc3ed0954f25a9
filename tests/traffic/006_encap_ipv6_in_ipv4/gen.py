#!/usr/bin/python3
"""IPv6 in IPv4 (protocol 41) to a moved VM's IPv4-only NVE: outer TOS =
inner traffic class, DF never set (RFC 4213 3.2), so every packet takes the
next outer ID; inner hop limit - 1."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest  # noqa: E402

M = MOVED_V4NVE_6
fab = [
    from_gw(IPv6(src=REMOTE6, dst=M, hlim=33) / UDP(sport=40300, dport=40301) / payload(64, 9)),
]
vm = [
    from_vm(IPv6(src=VM_A6, dst=M, hlim=64) / UDP(sport=40000, dport=40001) / payload(200, 1)),
    from_vm(IPv6(src=VM_A6, dst=M, hlim=64, tc=0x28, fl=0x54321) / TCP(sport=40100, dport=40101, flags="S")),
    from_vm(IPv6(src=VM_A6, dst=M, hlim=2, tc=0xb8) / ICMPv6EchoRequest(id=1, seq=2, data=payload(40, 2))),
    # The largest that fits: 1480 + 20 = 1500.
    from_vm(IPv6(src=VM_A6, dst=M, hlim=64) / UDP(sport=40002, dport=40001) / payload(1480 - 48, 4)),
]

f = Fabric()
expect0 = []
for fr in fab + vm:
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE4)
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0})
