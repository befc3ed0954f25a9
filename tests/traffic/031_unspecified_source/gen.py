#!/usr/bin/python3
"""Packets from the unspecified address: RFC 4291 2.5.2 -- an IPv6 packet with
source :: must never be forwarded by a router; RFC 1812 5.3.7 -- a router
SHOULD NOT forward a packet with a source on network 0 (0.0.0.0). Both are
dropped as bad sources, and, TTL / hop limit 1 or not, get no ICMP error
(RFC 1812 4.3.2.7 and RFC 4443 2.4(e.6): not about a packet whose source
does not identify a single node)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402


def udp(seed):
    return UDP(sport=40000 + seed, dport=40100 + seed) / payload(30, seed)


fab = [
    from_gw(IPv6(src="::", dst=VM_A6, hlim=64) / udp(1)),
    from_gw(IP(src="0.0.0.0", dst=VM_A4, ttl=64, id=2) / udp(2)),
    from_gw(IPv6(src="::", dst=MOVED_V6NVE_6, hlim=1) / udp(3)),
    from_gw(IP(src="0.0.0.0", dst=REMOTE4, ttl=1, id=4) / udp(4)),
]
write_scenario(HERE, 2, {0: fab}, {})
