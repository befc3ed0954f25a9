#!/usr/bin/python3
"""IPv4 local delivery: native fabric packets and VM-to-VM packets reach the
local VMs with TTL - 1, the VM's MAC as destination and the access port's MAC
as source; Ethernet padding is not forwarded."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, ICMP, TCP, UDP  # noqa: E402

fab = [
    from_gw(IP(src=REMOTE4, dst=VM_A4, ttl=64, flags="DF", id=0x1234) / UDP(sport=40000, dport=40001) / payload(100, 1)),
    # TTL 2 is the lowest that is still forwarded.
    from_gw(IP(src=REMOTE4, dst=VM_B4, ttl=2, id=7) / TCP(sport=40100, dport=40101, flags="PA", seq=1000, ack=2000)
            / payload(40, 2)),
    from_gw(IP(src=REMOTE4, dst=VM_A4, tos=0x10, ttl=128) / ICMP(type=8, id=77, seq=3) / payload(56, 3)),
    # A minimum-size frame: 18 bytes of Ethernet padding nved must not forward.
    pad60(from_gw(IP(src=REMOTE4, dst=VM_B4, ttl=30) / UDP(sport=40200, dport=40201) / b"hi")),
]
vm = [
    from_vm(IP(src=VM_B4, dst=VM_A4, ttl=64) / UDP(sport=41111, dport=42222) / payload(300, 4), vm_mac=VM_B_MAC),
]

expect1 = [
    deliver(frame_ip(fab[0]), VM_A_MAC),
    deliver(frame_ip(fab[1]), VM_B_MAC),
    deliver(frame_ip(fab[2]), VM_A_MAC),
    deliver(frame_ip(fab[3]), VM_B_MAC),
    # Port 0's burst is read before port 1's.
    deliver(frame_ip(vm[0]), VM_A_MAC),
]
write_scenario(HERE, 2, {0: fab, 1: vm}, {1: expect1})
