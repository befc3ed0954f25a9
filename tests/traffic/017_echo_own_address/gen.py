#!/usr/bin/python3
"""Echo requests to our own IPv4 / IPv6 address are answered in place, from
the fabric and from VMs: addresses swapped, TTL / hop limit 64, type 0 /
129, checksums right, padding dropped. A request with TTL 1 is answered
too (it is for us, not forwarded). An echo reply to us goes to the control
thread."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, ICMP  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest  # noqa: E402

PINGER4, PINGER6 = "198.51.100.7", "2001:db8:99::7"
fab = [
    from_gw(IP(src=PINGER4, dst=NVE4, ttl=57, id=0x3333, flags="DF", tos=0x10) / ICMP(type=8, id=0x100, seq=1)
            / payload(56, 1)),
    pad60(from_gw(IP(src=PINGER4, dst=NVE4, ttl=1, id=2) / ICMP(type=8, id=0x100, seq=2))),  # 42 bytes + padding
    from_gw(IPv6(src=PINGER6, dst=NVE6, hlim=60, fl=0x777) / ICMPv6EchoRequest(id=0x200, seq=1, data=payload(56, 2))),
    from_gw(IP(src=PINGER4, dst=NVE4, ttl=57, id=4) / ICMP(type=0, id=1, seq=1)),  # a reply: control thread
]
vm = [
    from_vm(IP(src=VM_A4, dst=NVE4, ttl=64, id=5) / ICMP(type=8, id=0x300, seq=7) / payload(1000, 3)),
    from_vm(IPv6(src=VM_A6, dst=NVE6, hlim=1) / ICMPv6EchoRequest(id=0x400, seq=8, data=payload(8, 4))),
]
expect0 = [echo_reply(fab[0], 0), echo_reply(fab[1], 0), echo_reply(fab[2], 0)]
expect1 = [echo_reply(vm[0], 1), echo_reply(vm[1], 1)]
assert len(expect0[1]) == 42
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0, 1: expect1})
