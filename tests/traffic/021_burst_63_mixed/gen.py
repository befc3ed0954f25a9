#!/usr/bin/python3
"""63 packets back to back (one burst of 32, then 31: the unrolled and
prefetching loops run their tails) with destinations taking turns: local
IPv4 and IPv6 VMs, all four tunnel families, the default gateway, and a
bad checksum drop in between. Each port's output keeps the arrival order;
the outer IPv4 IDs follow it too."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

N = 63
f = Fabric()
fab, expect0, expect1 = [], [], []
for i in range(N):
    kind = i % 8
    l4 = (UDP(sport=41000 + i, dport=42000 + i) if i % 3 else TCP(sport=41000 + i, dport=42000 + i, flags="A", seq=i)) \
        / payload(20 + i * 7, i)
    df = "DF" if i % 5 == 0 else 0
    if kind == 0:
        ip = IP(src=REMOTE4, dst=VM_A4 if i % 2 else VM_B4, ttl=64, id=i, flags=df) / l4
        expect1.append(deliver(bytes(ip), VM_A_MAC if i % 2 else VM_B_MAC))
    elif kind == 1:
        ip = IPv6(src=REMOTE6, dst=VM_B6, hlim=64, fl=i) / l4
        expect1.append(deliver(bytes(ip), VM_B_MAC))
    elif kind == 2:
        ip = IP(src=REMOTE4, dst=MOVED_V4NVE_4, ttl=64, id=i, flags=df) / l4
        expect0 += f.tunnel(bytes(ip), PEER_NVE4)
    elif kind == 3:
        ip = IPv6(src=REMOTE6, dst=MOVED_V6NVE_6, hlim=64) / l4
        expect0 += f.tunnel(bytes(ip), PEER_NVE6)
    elif kind == 4:
        ip = IP(src=REMOTE4, dst="10.7.%d.%d" % (i, i), ttl=64, id=i, flags=df) / l4
        expect0.append(to_gateway(bytes(ip)))
    elif kind == 5:
        ip = IP(src=REMOTE4, dst=MOVED_V6NVE_4, ttl=64, id=i, flags=df) / l4
        expect0 += f.tunnel(bytes(ip), PEER_NVE6)
    elif kind == 6:
        ip = IPv6(src=REMOTE6, dst=MOVED_V4NVE_6, hlim=64) / l4
        expect0 += f.tunnel(bytes(ip), PEER_NVE4)
    else:
        ip = bytearray(bytes(IP(src=REMOTE4, dst=VM_A4, ttl=64, id=i) / l4))
        ip[10] ^= 0xFF  # bad header checksum: dropped
    fab.append(from_gw(bytes(ip)))
assert len(fab) == N and len(expect0) + len(expect1) == N - 7
write_scenario(HERE, 2, {0: fab}, {0: expect0, 1: expect1})
