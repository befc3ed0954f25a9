#!/usr/bin/python3
"""VLAN-tagged access port (vlan: 100): frames to its VM leave tagged (TCI =
VID 100, priority 0); frames from it must carry VID 100 (any priority), the
tag is removed when they leave another port; a wrong VID or no tag, and a
tagged frame on an untagged port, are dropped (drop_vlan_mismatch). Answers
nved gives on the port (ICMP error, proxy ARP) carry the received tag."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import ARP  # noqa: E402

VM_C_MAC, VM_C4, VM_C6 = "02:00:00:00:02:01", "10.0.0.20", "fd00::20"
VID = 100


def tci(vid=VID, pcp=0):
    return (pcp << 13) | vid


def from_c(ip, vlan_tci=tci()):
    return from_vm(ip, vm_mac=VM_C_MAC, port=2, vlan_tci=vlan_tci)


def udp(seed):
    return UDP(sport=40000 + seed, dport=40100 + seed) / payload(50 + seed, seed)


fab = [
    from_gw(IP(src=REMOTE4, dst=VM_C4, ttl=64, id=1) / udp(1)),
    from_gw(IPv6(src=REMOTE6, dst=VM_C6, hlim=64) / udp(2)),
]
tagged = [
    from_c(IP(src=VM_C4, dst=VM_A4, ttl=64, id=3) / udp(3)),
    from_c(IPv6(src=VM_C6, dst=VM_A6, hlim=64) / udp(4), vlan_tci=tci(pcp=5)),  # priority is not checked
    from_c(IP(src=VM_C4, dst=VM_A4, ttl=64, id=5) / udp(5), vlan_tci=tci(vid=200)),  # wrong VID
    from_c(IP(src=VM_C4, dst=VM_A4, ttl=64, id=6) / udp(6), vlan_tci=None),  # untagged
    from_c(IP(src=VM_C4, dst=REMOTE4, ttl=1, id=7) / udp(7), vlan_tci=tci(pcp=3)),  # Time Exceeded, tagged
    from_c(IP(src=VM_C4, dst=MOVED_V4NVE_4, ttl=64, id=8) / udp(8)),  # tunnelled without the tag
    pad60(l2("ff:ff:ff:ff:ff:ff", VM_C_MAC, ETH_ARP, tci())
          + bytes(ARP(op=1, hwsrc=VM_C_MAC, psrc=VM_C4, pdst="10.0.0.1"))),  # proxy ARP, tagged
]
untagged_port = [
    from_vm(IP(src=VM_A4, dst=VM_B4, ttl=64, id=9) / udp(9), vlan_tci=tci()),  # tag on an untagged port
]

f = Fabric()
expect2 = [
    deliver(frame_ip(fab[0]), VM_C_MAC, port=2, vlan_tci=tci()),
    deliver(frame_ip(fab[1]), VM_C_MAC, port=2, vlan_tci=tci()),
    # Port 2's own burst: the answers nved makes while classifying.
    icmp_error(tagged[4], 2, ICMP_TIME_EXCEEDED),
    arp_reply(tagged[6], 2),
]
expect1 = [
    deliver(frame_ip(tagged[0]), VM_A_MAC),
    deliver(frame_ip(tagged[1]), VM_A_MAC),
]
expect0 = f.tunnel(frame_ip(tagged[5]), PEER_NVE4)
assert len(expect2[3]) == 46
write_scenario(HERE, 3, {0: fab, 1: untagged_port, 2: tagged}, {0: expect0, 1: expect1, 2: expect2})
