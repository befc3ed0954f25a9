// The worker loop: receive, process stage by stage, transmit through per-port
// TX buffers drained on a timer, report an RCU quiescent state every pass.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/worker_context.h"

namespace nvmove::dp {

struct WorkerLoopParams {
  const std::atomic<bool> *quit = nullptr;
  uint16_t n_ports = 0;            // ports 0..n_ports-1 are in use
  uint32_t tx_drain_us = 100;      // flush partially filled TX buffers this often
  uint32_t idle_sleep_us = 0;      // sleep this long after an empty pass (0 = busy poll)
};

// Allocates ctx.tx_buf for each port (counting failed sends as drop_tx_full).
// Returns false if memory is short.
bool worker_init_tx(WorkerContext &ctx, uint16_t n_ports, int socket_id);
void worker_free_tx(WorkerContext &ctx, uint16_t n_ports);

// Runs until *p.quit; flushes everything before returning.
void worker_run(WorkerContext &ctx, const WorkerLoopParams &p);

}  // namespace nvmove::dp
