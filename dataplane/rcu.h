// RCU quiescent-state reporting for readers of the route table.
//
// DPDK's rte_rcu_qsbr synchronises with atomics inside the (uninstrumented)
// shared library, so ThreadSanitizer cannot see that a grace period orders a
// reader's last access before the writer's reuse. Under TSan we tell it
// explicitly: a reader "releases" at each quiescent report and the writer
// "acquires" before reusing anything a grace period protected.
#pragma once

#include <rte_rcu_qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define NVE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NVE_TSAN 1
#endif
#endif

#ifdef NVE_TSAN
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#endif

namespace nvmove::dp {

inline void rcu_quiescent(rte_rcu_qsbr *v, unsigned thread_id) {
#ifdef NVE_TSAN
  __tsan_release(v);
#endif
  rte_rcu_qsbr_quiescent(v, thread_id);
}

// Called by the writer once a grace period has ended, before reuse.
inline void rcu_grace_period_over([[maybe_unused]] rte_rcu_qsbr *v) {
#ifdef NVE_TSAN
  __tsan_acquire(v);
#endif
}

}  // namespace nvmove::dp
