#!/usr/bin/python3
"""Jumbo frames, encapsulation: a VM's 8980-byte IPv4 packet fills a 9000-byte
IPv4 outer packet exactly, and its 8960-byte IPv6 packet a 9000-byte IPv6
outer one (tunnel.mtu 9000, both ports mtu 9000); each arrives in one mbuf
and leaves whole, TTL - 1, with the outer header of RFC 2003 / RFC 2473."""
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
    # DF set and exactly the size that fits: tunnelled whole too.
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=3, flags="DF") / UDP(sport=40003, dport=40100) / payload(8980 - 28, 3)),
]
f = Fabric(mtu=9000)
expect0 = f.tunnel(frame_ip(vm[0]), PEER_NVE4) + f.tunnel(frame_ip(vm[1]), PEER_NVE6) + f.tunnel(frame_ip(vm[2]), PEER_NVE4)
assert len(expect0) == 3 and all(len(bytes(e)) == 14 + 9000 for e in expect0)
write_scenario(HERE, 2, {1: vm}, {0: expect0})
