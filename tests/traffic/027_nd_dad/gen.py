#!/usr/bin/python3
"""Duplicate Address Detection: a Neighbour Solicitation from the
unspecified address (::) for our address must be answered (RFC 4862 5.4.3,
RFC 4861 7.2.4) with a Neighbour Advertisement, Solicited flag clear,
multicast to all-nodes ff02::1 -- and an IPv6 multicast packet goes to the
Ethernet multicast address 33:33:00:00:00:01 (RFC 2464 section 7), so that
every node on the link learns of the conflict, not only the sender."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet6 import IPv6, ICMPv6ND_NS  # noqa: E402

NEWCOMER_MAC = "02:00:00:00:00:77"
dad = l2("33:33:ff:00:00:01", NEWCOMER_MAC, ETH_IPV6) + bytes(
    IPv6(src="::", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=NVE6))  # no source link-layer option
expect0 = [nd_advert(dad, 0)]
write_scenario(HERE, 2, {0: [dad]}, {0: expect0})
