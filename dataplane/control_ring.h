// The one way from a worker to the control thread: a single-consumer ring of
// packets the workers do not handle themselves (ARP/ND replies from
// neighbours, traffic to our own addresses). The control loop drains it.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/worker_context.h"

namespace nvmove::dp {

// Hands a packet to the control thread; a full ring is the counted drop
// drop_control_ring_full. Consumes `m`.
void to_control(WorkerContext &ctx, rte_mbuf *m);

}  // namespace nvmove::dp
