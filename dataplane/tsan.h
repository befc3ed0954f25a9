// Happens-before edges that ThreadSanitizer cannot see by itself: DPDK's
// libraries are not instrumented, so its synchronisation (an lcore launch and
// wait, an rte_ring hand-off, an RCU grace period) is invisible to TSan. The
// code says where such an edge is; without TSan these compile to nothing.
#pragma once

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

// What this thread wrote before is visible to the thread that acquires `addr`.
inline void tsan_release([[maybe_unused]] const void *addr) {
#ifdef NVE_TSAN
  __tsan_release(const_cast<void *>(addr));
#endif
}

inline void tsan_acquire([[maybe_unused]] const void *addr) {
#ifdef NVE_TSAN
  __tsan_acquire(const_cast<void *>(addr));
#endif
}

}  // namespace nvmove::dp
