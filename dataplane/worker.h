// The worker loop: receive, process stage by stage, transmit each port's
// output with one burst call, report an RCU quiescent state every pass.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/worker_context.h"

namespace nvmove::dp {

struct WorkerLoopParams {
  const std::atomic<bool> *quit = nullptr;
  uint16_t n_ports = 0;            // ports 0..n_ports-1 are in use
  uint32_t idle_sleep_us = 0;      // sleep this long after an empty pass (0 = busy poll)
};

// Runs until *p.quit.
void worker_run(WorkerContext &ctx, const WorkerLoopParams &p);

}  // namespace nvmove::dp
