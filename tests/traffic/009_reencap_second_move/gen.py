#!/usr/bin/python3
"""A VM moved again: an NVE that still tunnels its traffic to us gets it
decapsulated and tunnelled on to the newer NVE (TTL - 1 once, here). ECN:
RFC 6040 at the decapsulation (CE outer marks the inner CE), then copied to
the new outer header."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

inner = [
    IP(src=REMOTE4, dst=MOVED_V4NVE_4, ttl=64, flags="DF") / UDP(sport=40000, dport=40001) / payload(200, 1),
    IPv6(src=REMOTE6, dst=MOVED_V6NVE_6, hlim=64) / TCP(sport=40100, dport=40101, flags="S"),
    IPv6(src=REMOTE6, dst=MOVED_V6NVE_6, hlim=3, tc=0x28) / UDP(sport=40200, dport=40201) / payload(50, 2),
    IP(src=REMOTE4, dst=MOVED_V6NVE_4, ttl=64, tos=ECT0, id=5) / UDP(sport=40300, dport=40301) / payload(60, 3),
    IP(src=REMOTE4, dst=MOVED_V4NVE_4, ttl=64, id=6) / UDP(sport=40400, dport=40401) / payload(70, 4),
]
fab = [
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=64, flags="DF", proto=4) / inner[0]),
    from_gw(IPv6(src=OLD_NVE6, dst=NVE6, hlim=64, nh=41) / inner[1]),
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=64, proto=41, id=1) / inner[2]),
    from_gw(IPv6(src=OLD_NVE6, dst=NVE6, hlim=64, nh=4, tc=CE) / inner[3]),
    from_gw(IP(src=OLD_NVE4, dst=NVE4, ttl=64, proto=4, id=2) / inner[4]),
]

f = Fabric()
expect0 = [
    f.tunnel(bytes(inner[0]), PEER_NVE4)[0],
    f.tunnel(bytes(inner[1]), PEER_NVE6)[0],
    f.tunnel(bytes(inner[2]), PEER_NVE6)[0],
    f.tunnel(set_ecn(bytes(inner[3]), RFC6040_DECAP[ECT0][CE][0]), PEER_NVE6)[0],
    f.tunnel(bytes(inner[4]), PEER_NVE4)[0],
]
write_scenario(HERE, 2, {0: fab}, {0: expect0})
