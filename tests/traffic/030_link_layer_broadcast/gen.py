#!/usr/bin/python3
"""RFC 1812 5.3.4: a router MUST NOT forward a packet it received as a link
layer broadcast or multicast unless its IP destination is multicast, and
SHOULD silently discard it; RFC 1812 4.3.2.7 and RFC 4443 2.4(e): no ICMP
error about a packet sent as a link-layer broadcast or multicast. Unicast
IPv4 / IPv6 packets in broadcast and multicast Ethernet frames, which nved
would otherwise deliver or tunnel, must produce nothing."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

BCAST, MCAST4, MCAST6 = "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:05", "33:33:00:00:00:05"


def udp(seed):
    return UDP(sport=40000 + seed, dport=40100 + seed) / payload(30, seed)


def frame(dst_mac, src_mac, ip):
    b = bytes(ip)
    return l2(dst_mac, src_mac, ethertype_for(b)) + b


fab = [
    frame(BCAST, GW_MAC, IP(src=REMOTE4, dst=VM_A4, ttl=64, id=1) / udp(1)),
    frame(MCAST4, GW_MAC, IP(src=REMOTE4, dst=VM_A4, ttl=64, id=2) / udp(2)),
    frame(BCAST, GW_MAC, IPv6(src=REMOTE6, dst=VM_A6, hlim=64) / udp(3)),
    frame(MCAST6, GW_MAC, IPv6(src=REMOTE6, dst=MOVED_V6NVE_6, hlim=64) / udp(4)),
]
vm = [
    frame(BCAST, VM_A_MAC, IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=5) / udp(5)),
    frame(BCAST, VM_A_MAC, IP(src=VM_A4, dst=REMOTE4, ttl=1, id=6) / udp(6)),   # no Time Exceeded either
    frame(MCAST6, VM_A_MAC, IPv6(src=VM_A6, dst=REMOTE6, hlim=1) / udp(7)),
]
write_scenario(HERE, 2, {0: fab, 1: vm}, {})
