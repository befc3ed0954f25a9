#!/usr/bin/python3
"""TTL / hop limit 1 (or 0): the packet is dropped and ICMP / ICMPv6 Time
Exceeded goes back out the ingress port to the previous hop, quoting the
packet as received (IPv4: header + 8 bytes, IPv6: up to 1232 bytes). No
error about an ICMP error, a non-first fragment or a multicast packet."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, ICMP, UDP, IPOption_RR, IPOption_Router_Alert  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6DestUnreach, ICMPv6EchoRequest  # noqa: E402

vm = [
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=1, id=1) / UDP(sport=40000, dport=40001) / payload(100, 1)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=1) / UDP(sport=40000, dport=40001) / payload(100, 2)),
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=0, id=3, flags="DF") / UDP(sport=40002, dport=40003) / payload(20, 3)),
    # No ICMP error about an ICMP error ...
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=1, id=4) / ICMP(type=3, code=3)
            / bytes(IP(src=REMOTE4, dst=VM_A4) / UDP(sport=40001, dport=40000))),
    # ... nor about a non-first fragment ...
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=1, id=5, proto=17, frag=100) / payload(64, 5)),
    # ... nor about a multicast packet.
    from_vm(IP(src=VM_A4, dst="239.1.1.1", ttl=1, id=6) / UDP(sport=40004, dport=40005) / payload(10, 6)),
    from_vm(IPv6(src=VM_A6, dst=REMOTE6, hlim=1) / ICMPv6DestUnreach(code=4)
            / bytes(IPv6(src=REMOTE6, dst=VM_A6) / UDP(sport=40001, dport=40000))),
    # With options: the quote is the whole header (32 bytes) + 8 bytes.
    from_vm(IP(src=VM_A4, dst=VM_B4, ttl=1, id=8, options=[IPOption_Router_Alert(), IPOption_RR(routers=["0.0.0.0"] * 2)])
            / UDP(sport=40006, dport=40007) / payload(40, 8)),
    # An echo request is not an error: it gets one.
    from_vm(IP(src=VM_A4, dst=REMOTE4, ttl=1, id=9) / ICMP(type=8, id=1, seq=1) / payload(56, 9)),
    # IPv6 quotes as much as fits in the minimum MTU: 1232 of 1440 bytes.
    from_vm(IPv6(src=VM_A6, dst=REMOTE6, hlim=1, tc=0x28, fl=3) / UDP(sport=40008, dport=40009) / payload(1392, 10)),
]
inner = IP(src=REMOTE4, dst=VM_A4, ttl=1, id=12) / UDP(sport=40010, dport=40011) / payload(33, 12)
fab = [
    from_gw(IP(src=REMOTE4, dst=VM_B4, ttl=1, id=11) / UDP(sport=40012, dport=40013) / payload(44, 11)),
    # The inner packet of a tunnel expires at the decapsulation.
    from_gw(IP(src=OLD_NVE4, dst=NVE4, proto=4, ttl=64) / inner),
]

expect1 = [
    icmp_error(vm[0], 1, ICMP_TIME_EXCEEDED),
    icmp_error(vm[1], 1, ICMP6_TIME_EXCEEDED),
    icmp_error(vm[2], 1, ICMP_TIME_EXCEEDED),
    icmp_error(vm[7], 1, ICMP_TIME_EXCEEDED),
    icmp_error(vm[8], 1, ICMP_TIME_EXCEEDED),
    icmp_error(vm[9], 1, ICMP6_TIME_EXCEEDED),
]
expect0 = [
    icmp_error(fab[0], 0, ICMP_TIME_EXCEEDED),
    # About the inner packet, to its source, through the fabric gateway.
    icmp_error(from_gw(inner), 0, ICMP_TIME_EXCEEDED),
]
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0, 1: expect1})
