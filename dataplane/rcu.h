// RCU quiescent-state reporting for readers of the route table.
//
// DPDK's rte_rcu_qsbr synchronises with atomics inside the (uninstrumented)
// shared library, so ThreadSanitizer cannot see that a grace period orders a
// reader's last access before the writer's reuse. Under TSan we tell it
// explicitly: a reader "releases" at each quiescent report and the writer
// "acquires" before reusing anything a grace period protected.
#pragma once

#include <rte_rcu_qsbr.h>

#include "dataplane/tsan.h"

namespace nvmove::dp {

inline void rcu_quiescent(rte_rcu_qsbr *v, unsigned thread_id) {
  tsan_release(v);
  rte_rcu_qsbr_quiescent(v, thread_id);
}

// Called by the writer once a grace period has ended, before reuse.
inline void rcu_grace_period_over([[maybe_unused]] rte_rcu_qsbr *v) {
  tsan_acquire(v);
}

}  // namespace nvmove::dp
