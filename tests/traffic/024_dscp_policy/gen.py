#!/usr/bin/python3
"""tunnel: {dscp: 10}: the outer DSCP is set by policy (10, i.e. TOS 0x28)
whatever the inner DSCP, while the ECN field is still copied from the inner
header (RFC 6040 normal mode); the inner header keeps its own DSCP. All four
tunnel families, also after a decapsulation (re-encapsulation)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

DSCP = 10


def udp(seed):
    return UDP(sport=40000 + seed, dport=40100 + seed) / payload(30 + seed, seed)


reinner = IP(src=REMOTE4, dst=MOVED_V6NVE_4, ttl=64, tos=0xB8 | ECT1, id=9) / udp(9)
fab = [from_gw(IP(src=OLD_NVE4, dst=NVE4, proto=4, tos=0x20) / reinner)]
vm = [
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, tos=0xB8, id=1) / udp(1)),           # EF, Not-ECT
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, tos=CE, id=2, flags="DF") / udp(2)),  # CS0, CE
    from_vm(IP(src=VM_A4, dst=MOVED_V6NVE_4, ttl=64, tos=0x48 | ECT1, id=3) / udp(3)),    # AF21, ECT(1)
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64, tc=0xB8 | ECT0) / udp(4)),        # EF, ECT(0)
    from_vm(IPv6(src=VM_A6, dst=MOVED_V4NVE_6, hlim=64, tc=0xFC | ECT1) / udp(5)),        # CS7-ish, ECT(1)
    from_vm(IPv6(src=VM_A6, dst=MOVED_V4NVE_6, hlim=64, tc=DSCP << 2) / udp(6)),          # already DSCP 10
]
f = Fabric(dscp=DSCP)
expect0 = f.tunnel(bytes(reinner), PEER_NVE6)  # port 0's burst first
for fr, nve in zip(vm, [PEER_NVE4, PEER_NVE4, PEER_NVE6, PEER_NVE6, PEER_NVE4, PEER_NVE4]):
    expect0 += f.tunnel(frame_ip(fr), nve)
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0})
