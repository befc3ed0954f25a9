#!/usr/bin/python3
"""ARP: a request on the fabric for our underlay address is answered in
place from the port's MAC (42-byte frame, padding dropped); on an access
port (proxy_arp) any request but a probe or a gratuitous ARP is answered
with the access port's MAC, as the VMs' gateway. Other requests and replies
go to the control thread; malformed ARP is dropped."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.l2 import ARP  # noqa: E402

BCAST = "ff:ff:ff:ff:ff:ff"
GW4 = "192.0.2.254"


def arp_frame(src_mac, port, op=1, psrc=GW4, pdst=NVE4, hwdst="00:00:00:00:00:00", dst=BCAST, **kw):
    return pad60(l2(dst, src_mac, ETH_ARP) + bytes(ARP(op=op, hwsrc=src_mac, psrc=psrc, hwdst=hwdst, pdst=pdst, **kw)))


fab = [
    arp_frame(GW_MAC, 0),                                   # for us: answered
    arp_frame(GW_MAC, 0, pdst="192.0.2.77"),                # not ours: control thread
    arp_frame(GW_MAC, 0, op=2, pdst=NVE4, hwdst=port_mac(0), dst=port_mac(0)),  # a reply: control thread
]
vm = [
    arp_frame(VM_A_MAC, 1, psrc=VM_A4, pdst="10.0.0.1"),   # its gateway: proxy answer
    arp_frame(VM_A_MAC, 1, psrc=VM_A4, pdst=VM_B4),        # another VM: proxy answer
    arp_frame(VM_A_MAC, 1, psrc=VM_A4, pdst=VM_A4),        # gratuitous: control thread
    arp_frame(VM_A_MAC, 1, psrc="0.0.0.0", pdst=VM_A4),    # probe: control thread
    arp_frame(VM_A_MAC, 1, psrc=VM_A4, pdst="10.0.0.1", ptype=0x86DD),  # not Ethernet/IPv4: malformed
    l2(BCAST, VM_A_MAC, ETH_ARP) + bytes(ARP(hwsrc=VM_A_MAC, psrc=VM_A4, pdst="10.0.0.1"))[:20],  # cut short
]
expect0 = [arp_reply(fab[0], 0)]
expect1 = [arp_reply(vm[0], 1), arp_reply(vm[1], 1)]
assert all(len(f) == 42 for f in expect0 + expect1)
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0, 1: expect1})
