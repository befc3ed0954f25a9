#!/usr/bin/python3
"""Neighbour Discovery on the fabric: a Neighbour Solicitation for our
underlay address (multicast or unicast) is answered with a Neighbour
Advertisement (RFC 4861 7.2.4: R, S and O set, target link-layer address
option with the port's MAC). Solicitations for other targets and
advertisements go to the control thread; a solicitation with a hop limit
other than 255 is invalid (RFC 4861 7.1.1) and dropped."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet6 import IPv6, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr  # noqa: E402

GW6 = "2001:db8::fe"
SNM = "ff02::1:ff00:1"          # solicited-node multicast address of 2001:db8::1
SNM_MAC = "33:33:ff:00:00:01"


def ns(target, dst=SNM, dst_mac=SNM_MAC, hlim=255):
    return l2(dst_mac, GW_MAC, ETH_IPV6) + bytes(
        IPv6(src=GW6, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=GW_MAC))


fab = [
    ns(NVE6),                                           # address resolution: answered
    ns(NVE6, dst=NVE6, dst_mac=port_mac(0)),            # unreachability detection: answered
    ns("2001:db8::77", dst="ff02::1:ff00:77", dst_mac="33:33:ff:00:00:77"),  # not ours: control thread
    ns(NVE6, hlim=64),                                  # invalid hop limit: dropped
    l2(port_mac(0), GW_MAC, ETH_IPV6) + bytes(          # an advertisement: control thread
        IPv6(src=GW6, dst=NVE6, hlim=255) / ICMPv6ND_NA(R=1, S=1, O=1, tgt=GW6) / ICMPv6NDOptDstLLAddr(lladdr=GW_MAC)),
]
expect0 = [nd_advert(fab[0], 0), nd_advert(fab[1], 0)]
assert all(len(f) == 14 + 40 + 32 for f in expect0)
write_scenario(HERE, 2, {0: fab}, {0: expect0})
