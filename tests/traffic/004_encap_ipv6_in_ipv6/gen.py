#!/usr/bin/python3
"""IPv6-in-IPv6 (RFC 2473) to the NVE a VM moved to: outer traffic class
copied, flow label = CRC-32C of the inner flow (RFC 6438), hop limit 64;
inner hop limit - 1."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest  # noqa: E402
from scapy.layers.sctp import SCTP, SCTPChunkData  # noqa: E402

M = MOVED_V6NVE_6
fab = [
    from_gw(IPv6(src=REMOTE6, dst=M, hlim=20) / UDP(sport=40300, dport=40301) / payload(64, 9)),
]
vm = [
    from_vm(IPv6(src=VM_A6, dst=M, hlim=64) / UDP(sport=40000, dport=40001) / payload(200, 1)),
    from_vm(IPv6(src=VM_A6, dst=M, hlim=64, tc=0x28, fl=0xabcde) / TCP(sport=40100, dport=40101, flags="S")),
    # No ports for ICMPv6: the hash uses 4 zero bytes.
    from_vm(IPv6(src=VM_A6, dst=M, hlim=2, tc=0xb8) / ICMPv6EchoRequest(id=1, seq=2, data=payload(40, 2))),
    from_vm(IPv6(src=VM_A6, dst=M, hlim=64) / SCTP(sport=40400, dport=40401, tag=1)
            / SCTPChunkData(tsn=1, stream_id=0, stream_seq=0, proto_id=0, data=payload(30, 3))),
    # Same addresses, other ports: another flow label.
    from_vm(IPv6(src=VM_A6, dst=M, hlim=64) / UDP(sport=40002, dport=40001) / payload(1400, 4)),
]

f = Fabric()
expect0 = []
for fr in fab + vm:
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE6)
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0})
