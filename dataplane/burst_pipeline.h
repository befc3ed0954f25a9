// The burst pipeline of a worker, stage by stage:
//   1. classify (classify.h): the common case in a straight line, the rest
//      in full: parse L2/L3, validate, answer ARP/ND/echo, decapsulate
//      tunnels addressed to us, build lookup keys and hashes, prefetch buckets;
//   2. look up all keys in one bulk call (route_hash.h), prefetching what
//      stage 3 will touch as each route is confirmed;
//   3. act (actions.h): deliver locally, encapsulate toward the VM's new NVE,
//      send to the fabric gateway, or drop with a named counter.
// Output lands in ctx.out[port]; the caller transmits it (worker loop) or
// inspects it (unit tests, benchmark).
#pragma once

#include <rte_mbuf.h>

#include "dataplane/worker_context.h"

namespace nvmove::dp {

// Processes up to kBurst packets received on `in_port`. Takes ownership of all.
void process_burst(WorkerContext &ctx, uint16_t in_port, rte_mbuf **pkts, uint16_t n);

}  // namespace nvmove::dp
