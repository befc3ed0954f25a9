#include "dataplane/route_hash.h"

#include <rte_malloc.h>

#include <algorithm>

#include "dataplane/dpdk_memory.h"

namespace nvmove::dp {

RouteHash::RouteHash(uint32_t capacity, const RouteEntry *entries, int socket_id) : entries_(entries) {
  // About 4 keys per 7-slot main bucket at full capacity: ~5% of buckets
  // overflow when hashes are uniform. The overflow pool takes every key in
  // one chain if it must (a chain grows only when all its slots are full).
  n_main_ = std::max<uint32_t>(1, (capacity + 3) / 4);
  n_overflow_ = capacity / kRouteBucketSlots + 1;
  const size_t total = size_t{n_main_} + n_overflow_;
  // Zeroed memory is an empty table: every signature 0, no overflow links.
  buckets_ = static_cast<RouteBucket *>(
      rte_zmalloc_socket("nve_route_buckets", sizeof(RouteBucket) * total, 64, socket_id));
  if (!buckets_) throw_out_of_dpdk_memory("route hash buckets", sizeof(RouteBucket) * total);
}

RouteHash::~RouteHash() { rte_free(buckets_); }

RouteHash::Slot RouteHash::find(const RouteKey &key, uint32_t hash) const {
  const uint32_t sig = route_sig_of(hash);
  uint32_t b = route_bucket_of(hash, n_main_);
  for (;;) {
    const RouteBucket &bk = buckets_[b];
    for (uint32_t m = route_match_sigs(bk, sig); m; m &= m - 1) {
      const uint32_t s = static_cast<uint32_t>(__builtin_ctz(m));
      if (route_key_equal(entries_[bk.idx[s].load(std::memory_order_relaxed)].key, key)) return Slot{b, s};
    }
    b = bk.next.load(std::memory_order_relaxed);
    if (b == kNoRouteBucket) return Slot{};
  }
}

bool RouteHash::insert(uint32_t hash, uint32_t entry_idx) {
  const uint32_t sig = route_sig_of(hash);
  uint32_t b = route_bucket_of(hash, n_main_);
  for (;;) {
    RouteBucket &bk = buckets_[b];
    for (uint32_t s = 0; s < kRouteBucketSlots; s++) {
      if (bk.sig[s].load(std::memory_order_relaxed) == 0) {
        // Release on both: a reader that loaded this slot's signature before
        // an erase of the same key (equal signature) and its index after
        // this store must still see the entry written before it. Plain
        // stores on x86 either way.
        bk.idx[s].store(entry_idx, std::memory_order_release);
        bk.sig[s].store(sig, std::memory_order_release);  // publishes the index and the entry
        return true;
      }
    }
    const uint32_t next = bk.next.load(std::memory_order_relaxed);
    if (next != kNoRouteBucket) {
      b = next;
      continue;
    }
    if (overflow_used_ == n_overflow_) return false;
    // A fresh overflow bucket is all zero (never used before): link it,
    // then fill it like any other.
    const uint32_t nb = n_main_ + overflow_used_++;
    bk.next.store(nb, std::memory_order_release);
    b = nb;
  }
}

}  // namespace nvmove::dp
