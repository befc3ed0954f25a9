#!/usr/bin/python3
"""Re-encapsulation that needs fragmentation: a tunnelled IPv4 packet without
DF for a VM that moved on is decapsulated, does not fit the tunnel to the
newer NVE, is fragmented and every fragment tunnelled. It is one
decapsulated packet tunnelled again, so reencap counts it (once), as it
does when no fragmentation is needed (009_reencap_second_move)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402

inner = IP(src=REMOTE4, dst=MOVED_V4NVE_4, ttl=64, id=0x55) / UDP(sport=40000, dport=40001) / payload(1600 - 28, 1)
fab = [from_gw(IP(src=OLD_NVE4, dst=NVE4, proto=4, ttl=64) / inner)]
f = Fabric()
expect0 = f.tunnel(bytes(inner), PEER_NVE4)
assert len(expect0) == 2
write_scenario(HERE, 2, {0: fab}, {0: expect0})
