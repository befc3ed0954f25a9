#!/usr/bin/python3
"""RFC 4861 7.1.1: a node MUST silently discard a Neighbour Solicitation that
fails any validity check, among them: the ICMP checksum is valid; every
option has a length > 0; if the source is the unspecified address, there is
no source link-layer address option. These three solicitations target our
address and are otherwise valid; none may be answered (drop_nd_malformed:
'Neighbour Discovery message failing RFC 4861 validity checks')."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet6 import IPv6, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr  # noqa: E402

GW6 = "2001:db8::fe"
SNM, SNM_MAC = "ff02::1:ff00:1", "33:33:ff:00:00:01"

good = bytes(IPv6(src=GW6, dst=SNM, hlim=255) / ICMPv6ND_NS(tgt=NVE6) / ICMPv6NDOptSrcLLAddr(lladdr=GW_MAC))
bad_cksum = bytearray(good)
bad_cksum[42] ^= 0xFF
zero_len_opt = bytes(IPv6(src=GW6, dst=SNM, hlim=255) / ICMPv6ND_NS(tgt=NVE6)
                     / ICMPv6NDOptSrcLLAddr(len=0, lladdr=GW_MAC))
dad_with_slla = bytes(IPv6(src="::", dst=SNM, hlim=255) / ICMPv6ND_NS(tgt=NVE6)
                      / ICMPv6NDOptSrcLLAddr(lladdr=GW_MAC))
fab = [l2(SNM_MAC, GW_MAC, ETH_IPV6) + bytes(p) for p in (bad_cksum, zero_len_opt, dad_with_slla)]
write_scenario(HERE, 2, {0: fab}, {})
