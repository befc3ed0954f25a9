#!/usr/bin/python3
"""Jumbo frames, decapsulation: 9000-byte IPv4 and IPv6 outer packets from a
peer NVE carry 8980- and 8960-byte inner packets to the local VMs (both
ports mtu 9000): one mbuf each, delivered whole, TTL - 1."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

inner = [
    IP(src=REMOTE4, dst=VM_A4, ttl=64, id=11) / UDP(sport=40000, dport=40001) / payload(8980 - 28, 1),
    IPv6(src=REMOTE6, dst=VM_B6, hlim=64) / UDP(sport=40100, dport=40101) / payload(8960 - 48, 2),
]
fab = [
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=60, flags="DF", proto=4) / inner[0]),
    from_gw(IPv6(src=OLD_NVE6, dst=NVE6, hlim=60, nh=41) / inner[1]),
]
assert all(len(bytes(f)) == 14 + 9000 for f in fab)
expect1 = [deliver(bytes(inner[0]), VM_A_MAC), deliver(bytes(inner[1]), VM_B_MAC)]
if __name__ == "__main__":  # 045 sends the same packets in chains
    write_scenario(HERE, 2, {0: fab}, {1: expect1})
