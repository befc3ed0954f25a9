// The control thread's share of the fast path when rte_flow steers control
// traffic (ARP, ND, ICMP to our addresses) to a queue of its own on a port
// (drivers/flow_steering.h): those packets go through the same pipeline as a
// worker's, with the control thread's own WorkerContext (its counters, its
// route-statistics slot), so ARP, ND and echo are answered exactly as a
// worker answers them and what needs the control thread still reaches it
// through the control ring. What it sends is handed to worker 0 through the
// control TX ring (m->port says where), as ARP requests are: ports need no
// TX queue for the control thread.
//
// No RCU registration: the control thread is the route table's only writer,
// and it retires and reclaims entries only between these calls, so nothing
// it reads here can be freed under it.
#pragma once

#include <cstdint>

#include "dataplane/worker_context.h"

struct rte_ring;

namespace nvmove::dp {

// Receives one burst from (port, queue) and processes it. Returns the
// number of packets received.
uint16_t control_queue_poll(WorkerContext &ctx, uint16_t port, uint16_t queue, uint16_t n_ports, rte_ring *tx);

}  // namespace nvmove::dp
