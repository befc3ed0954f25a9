#!/usr/bin/python3
"""IPv4 options and IPv6 extension headers are forwarded as they are
(delivered, tunnelled, sent to the gateway) with only the TTL / hop limit
changed (the IPv4 checksum covers the options); ipv4_options_seen counts
the IPv4 packets with options. The flow label takes the ports after the
options (IPv4) and none after an extension header (IPv6: the hash uses the
extension header's number as protocol)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP, IPOption_NOP, IPOption_RR, IPOption_Router_Alert, IPOption_Timestamp  # noqa: E402
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, PadN,  # noqa: E402
                                RouterAlert)


def udp(seed):
    return UDP(sport=40000 + seed, dport=40100 + seed) / payload(40 + seed, seed)


fab = [
    from_gw(IP(src=REMOTE4, dst="10.8.8.8", ttl=64, id=1, options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) / udp(1)),
    from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=64) / IPv6ExtHdrHopByHop(options=[RouterAlert()])
            / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / udp(2)),
]
vm = [
    from_vm(IP(src=VM_A4, dst=VM_B4, ttl=64, id=3, options=[IPOption_Router_Alert()]) / udp(3)),
    from_vm(IP(src=VM_A4, dst=MOVED_V4NVE_4, ttl=64, id=4,
               options=[IPOption_NOP(), IPOption_NOP(), IPOption_RR(routers=["0.0.0.0"] * 2)]) / udp(4)),
    from_vm(IP(src=VM_A4, dst=MOVED_V6NVE_4, ttl=64, id=5, options=[IPOption_Timestamp(flg=0, timestamp=0)]) / udp(5)),
    from_vm(IPv6(src=VM_A6, dst=VM_B6, hlim=64) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / udp(6)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V6NVE_6, hlim=64) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / udp(7)),
    from_vm(IPv6(src=VM_A6, dst=MOVED_V4NVE_6, hlim=64) / IPv6ExtHdrFragment(id=0x1234, m=0, offset=0) / udp(8)),
]
assert all(ipv4_ihl(frame_ip(fr)) > 20 for fr in (fab[0], vm[0], vm[1], vm[2]))

f = Fabric()
expect0 = [to_gateway(frame_ip(fab[0]))]
expect1 = [deliver(frame_ip(fab[1]), VM_A_MAC), deliver(frame_ip(vm[0]), VM_B_MAC)]
expect0 += f.tunnel(frame_ip(vm[1]), PEER_NVE4)
expect0 += f.tunnel(frame_ip(vm[2]), PEER_NVE6)
expect1 += [deliver(frame_ip(vm[3]), VM_B_MAC)]
expect0 += f.tunnel(frame_ip(vm[4]), PEER_NVE6)
expect0 += f.tunnel(frame_ip(vm[5]), PEER_NVE4)
write_scenario(HERE, 2, {0: fab, 1: vm}, {0: expect0, 1: expect1})
