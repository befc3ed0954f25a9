#!/usr/bin/python3
"""IPv4 without DF too big for the tunnel: TTL - 1, then fragmented to fit
(fragment data a multiple of 8 bytes, every fragment <= 1480 bytes under an
IPv4 outer header or 1460 under IPv6; options with the copy flag repeated in
every fragment, the others only in the first; RFC 791), then each fragment
is tunnelled (own outer ID, flow label without ports).

The VMs send up to 2000-byte packets: their port has mtu 2000 (nved.yaml)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP, IPOption_RR, IPOption_Router_Alert  # noqa: E402


def dgram(dst, total, seed, **kw):
    hdr = IP(src=VM_A4, dst=dst, ttl=64, id=0x100 + seed, **kw)
    hlen = len(bytes(hdr))
    return hdr / UDP(sport=40000 + seed, dport=40100) / payload(total - hlen - 8, seed)


vm = [
    from_vm(dgram(MOVED_V4NVE_4, 2000, 1)),              # 1456 + 524 data bytes
    from_vm(dgram(MOVED_V6NVE_4, 2000, 2, tos=0x28)),    # 1440 + 540
    # Record route (not copied) and router alert (copied): 36-byte header
    # in the first fragment, 24 bytes in the second.
    from_vm(dgram(MOVED_V4NVE_4, 1600, 3, options=[IPOption_RR(routers=["0.0.0.0"] * 2), IPOption_Router_Alert()])),
    from_vm(dgram(MOVED_V4NVE_4, 1481, 4)),              # one byte too many: 1456 + 5
    from_vm(dgram(MOVED_V4NVE_4, 1480, 5)),              # fits
]
f = Fabric()
expect0 = []
for fr, nve in zip(vm, [PEER_NVE4, PEER_NVE6, PEER_NVE4, PEER_NVE4, PEER_NVE4]):
    expect0 += f.tunnel(frame_ip(fr), nve)
assert len(expect0) == 9
write_scenario(HERE, 2, {1: vm}, {0: expect0})
