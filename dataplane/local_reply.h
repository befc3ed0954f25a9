// Packets the NVE answers itself, in place on the worker: ARP and Neighbour
// Solicitation for its own underlay addresses (and, on access ports, as the
// VMs' gateway), and echo requests to its own addresses.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/packet_meta.h"
#include "dataplane/worker_context.h"

namespace nvmove::dp {

// ARP frame (l2 header of pm.l2_len at the frame start). Consumes `m`.
void handle_arp(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm);

// ICMPv6 Neighbour Discovery (NS/NA); pm.l3 is the IPv6 header. Consumes `m`.
void handle_nd(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm);

// Echo request to one of our addresses; pm.l3 is the IP header. Consumes `m`.
void handle_echo(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm);

}  // namespace nvmove::dp
