#!/usr/bin/python3
"""IPv6 local delivery: native fabric packets and VM-to-VM packets reach the
local VMs with hop limit - 1; traffic class and flow label unchanged."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest  # noqa: E402

fab = [
    from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=64, tc=0x28, fl=0x12345) / UDP(sport=40000, dport=40001)
            / payload(100, 1)),
    # Hop limit 2 is the lowest that is still forwarded.
    from_gw(IPv6(src=REMOTE6, dst=VM_B6, hlim=2) / TCP(sport=40100, dport=40101, flags="PA", seq=5, ack=6)
            / payload(20, 2)),
    # An echo request to a VM (not to us) is just forwarded.
    from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=255, tc=0xb8) / ICMPv6EchoRequest(id=9, seq=1, data=payload(32, 3))),
]
vm = [
    from_vm(IPv6(src=VM_B6, dst=VM_A6, hlim=64, fl=0xfffff) / UDP(sport=41111, dport=42222) / payload(500, 4),
            vm_mac=VM_B_MAC),
]

expect1 = [
    deliver(frame_ip(fab[0]), VM_A_MAC),
    deliver(frame_ip(fab[1]), VM_B_MAC),
    deliver(frame_ip(fab[2]), VM_A_MAC),
    deliver(frame_ip(vm[0]), VM_A_MAC),  # port 0's burst is read before port 1's
]
write_scenario(HERE, 2, {0: fab, 1: vm}, {1: expect1})
