#!/usr/bin/python3
"""ICMP error rate limit (icmp: {rate_per_sec: 1, burst: 3}): of the errors
due in one burst only the first three (in arrival order) are sent, the rest
are counted as drop_icmp_rate_limited. The bucket is shared by all error
kinds: the Packet Too Big and Fragmentation Needed at the end find it
empty. Echo replies are not errors and are not limited."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, ICMP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402


def udp(seed, size=30):
    return UDP(sport=40000 + seed, dport=40100 + seed) / payload(size, seed)


vm = [
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=1, id=1) / udp(1)),
    from_vm(IPv6(src=VM_A6, dst=REMOTE6, hlim=1) / udp(2)),
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=1, id=3) / udp(3)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=1) / udp(4)),           # limited
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=1, id=5) / udp(5)),              # limited
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64) / udp(6, 1500)),    # Packet Too Big: limited
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=7, flags="DF") / udp(7, 1500)),  # Frag. Needed: limited
    from_vm(IP(src=VM_A4, dst=NVE4, ttl=64, id=8) / ICMP(type=8, id=8, seq=8)),  # echo: answered
]
expect1 = [
    icmp_error(vm[0], 1, ICMP_TIME_EXCEEDED),
    icmp_error(vm[1], 1, ICMP6_TIME_EXCEEDED),
    icmp_error(vm[2], 1, ICMP_TIME_EXCEEDED),
    echo_reply(vm[7], 1),
]
write_scenario(HERE, 2, {1: vm}, {1: expect1})
