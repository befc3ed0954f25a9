#!/usr/bin/python3
"""The egress port's MTU (RFC 1812 5.2.6): packets from a jumbo fabric to a
VM on a 1500-byte access port. IPv4 with DF gets Fragmentation Needed with
MTU 1500, IPv6 Packet Too Big with MTU 1500 (both back out the fabric port,
quoting the packet as received); IPv4 without DF is fragmented (TTL - 1,
then pieces of at most 1500 bytes, as DPDK's rte_ipv4_fragment_packet cuts
them) and each piece delivered; a packet of exactly 1500 bytes is delivered
whole."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

VM_PORT_MTU = 1500
fab = [
    from_gw(IP(src=REMOTE4, dst=VM_A4, ttl=64, id=21, flags="DF") / UDP(sport=40000, dport=40001) / payload(4000 - 28, 1)),
    from_gw(IP(src=REMOTE4, dst=VM_A4, ttl=64, id=22) / UDP(sport=40000, dport=40002) / payload(4000 - 28, 2)),
    from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=64) / UDP(sport=40100, dport=40101) / payload(3000 - 48, 3)),
    from_gw(IP(src=REMOTE4, dst=VM_B4, ttl=64, id=24, flags="DF") / UDP(sport=40000, dport=40004) / payload(1500 - 28, 4)),
]
expect0 = [icmp_error(fab[0], 0, ICMP_UNREACH, ICMP_FRAG_NEEDED, VM_PORT_MTU),
           icmp_error(fab[2], 0, ICMP6_TOO_BIG, 0, VM_PORT_MTU)]
pieces = fragment_ipv4(dec_ttl(frame_ip(fab[1])), VM_PORT_MTU)
assert len(pieces) == 3 and all(len(p) <= VM_PORT_MTU for p in pieces)
expect1 = [l2(VM_A_MAC, port_mac(1), ethertype_for(p)) + p for p in pieces] + [deliver(frame_ip(fab[3]), VM_B_MAC)]
write_scenario(HERE, 2, {0: fab}, {0: expect0, 1: expect1})
