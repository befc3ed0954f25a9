// Every outcome and every drop reason of a worker, declared once.
//
// The X-macro keeps names, enum values and documentation in one list: the
// CLI, the JSON dump, the traffic tests and docs/operations.md all use these
// names. A drop that is not in this list does not exist.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace nvmove::dp {

// The list itself is plain C (dataplane/counter_list.h): the XDP program
// counts with the same names.
#include "dataplane/counter_list.h"

enum class Counter : uint16_t {
#define NVE_COUNTER_ENUM(name, drop, help) name,
  NVE_COUNTERS(NVE_COUNTER_ENUM)
#undef NVE_COUNTER_ENUM
      kCount
};

inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);

struct CounterInfo {
  const char *name;
  bool is_drop;
  const char *help;
};

inline constexpr CounterInfo kCounterInfo[kCounterCount] = {
#define NVE_COUNTER_INFO(name, drop, help) {#name, drop, help},
    NVE_COUNTERS(NVE_COUNTER_INFO)
#undef NVE_COUNTER_INFO
};

// One worker's counters. Only the owning worker writes; other threads read.
// Relaxed load+store compiles to plain moves (no locked instruction) yet keeps
// the cross-thread read well-defined.
struct alignas(64) CounterBlock {
  std::atomic<uint64_t> v[kCounterCount] = {};

  void add(Counter c, uint64_t n = 1) {
    auto &slot = v[static_cast<size_t>(c)];
    slot.store(slot.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get(Counter c) const { return v[static_cast<size_t>(c)].load(std::memory_order_relaxed); }
  void clear() {
    for (auto &s : v) s.store(0, std::memory_order_relaxed);
  }
};

}  // namespace nvmove::dp
