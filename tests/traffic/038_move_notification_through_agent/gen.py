#!/usr/bin/python3
"""Steps: a move notification through the agent. The VM 10.0.0.5 / fd00::5
is activated here and registered with nvad; its flows from the fabric are
delivered on the access port. The peer NVE (198.51.100.2) activates the same
VM: nvad notifies this NVE, whose agent installs the redirect, and the same
flows leave on the fabric in IPv4 tunnels to the peer (IPv6 inside IPv4 for
fd00::5), also after the VM is deactivated here (packets in flight)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402


def flow4(seq):
    return from_gw(IP(src=REMOTE4, dst=VM_A4, ttl=60, id=0x380 + seq) / UDP(sport=40030, dport=5001)
                   / payload(120, seq))


def flow6(seq):
    return from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=60) / UDP(sport=40031, dport=5001) / payload(100, seq))


here = [flow4(1), flow6(2), flow4(3)]
moved = [flow4(4), flow6(5), flow4(6)]
deactivated = [flow4(7), flow6(8), flow4(9)]
f = Fabric()
expect0 = []
for fr in moved + deactivated:
    expect0 += f.tunnel(frame_ip(fr), PEER_NVE4)
expect1 = [deliver(frame_ip(fr), VM_A_MAC) for fr in here]
write_stepped_scenario(HERE, 2, {"1": {0: here}, "2": {0: moved}, "3": {0: deactivated}}, {0: expect0, 1: expect1})
