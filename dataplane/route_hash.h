// The host route hash: one writer (the control thread), lock-free readers
// (workers), entries reclaimed through RCU.
//
// Why not rte_hash: it cost 140 instructions and three dependent cache lines
// per lookup (bucket, key slot, data); this table is specialised for one key
// size and one kind of value and costs about 40 and two lines (bucket, entry
// with the key inside), and its bucket can be prefetched as soon as the
// packet's hash is known, a whole burst ahead of the lookup.
//
// Layout: 64-byte buckets of 7 slots, each a 32-bit signature (never 0;
// 0 = empty) and a 32-bit index into the entry pool, plus the index of an
// overflow bucket. Overflow buckets come from a pool sized so that any
// `capacity` keys fit whatever their distribution. Keys never move: a slot is
// filled (index, then signature with release), its index swapped (release)
// when the route changes, or its signature cleared when it is deleted, and
// the entries it pointed to are retired through RCU. A reader that sees a
// signature therefore sees the index written before it, and an entry it
// reaches stays intact until its next quiescent state; a reader racing with a
// delete or a slot reuse at worst misses a key that is being removed, which
// is the linearisable answer.
#pragma once

#include <nmmintrin.h>
#include <rte_prefetch.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/rcu.h"
#include "dataplane/route_entry.h"

namespace nvmove::dp {

inline constexpr uint32_t kRouteBucketSlots = 7;
inline constexpr uint32_t kNoRouteBucket = 0;  // bucket 0 is a main bucket, never an overflow one

struct alignas(64) RouteBucket {
  std::atomic<uint32_t> sig[8];  // sig[7] stays 0, so two 16-byte compares cover the bucket
  std::atomic<uint32_t> idx[kRouteBucketSlots];
  std::atomic<uint32_t> next;    // overflow bucket, kNoRouteBucket = none
};
static_assert(sizeof(RouteBucket) == 64);

// What a reader needs; plain pointers.
struct RouteHashView {
  const RouteBucket *buckets = nullptr;  // [0, n_main) main, then the overflow pool
  uint32_t n_main = 0;
  const RouteEntry *entries = nullptr;
};

inline uint32_t route_bucket_of(uint32_t hash, uint32_t n_main) {
  return static_cast<uint32_t>((uint64_t{hash} * n_main) >> 32);  // any table size, no modulo
}
inline uint32_t route_sig_of(uint32_t hash) { return hash | 1u; }

// Bit i set: slot i holds `sig`.
inline uint32_t route_match_sigs(const RouteBucket &b, uint32_t sig) {
#if NVE_TSAN
  uint32_t m = 0;
  for (uint32_t i = 0; i < kRouteBucketSlots; i++)
    if (b.sig[i].load(std::memory_order_acquire) == sig) m |= 1u << i;
  return m;
#else
  static_assert(sizeof(std::atomic<uint32_t>) == 4);
  const __m128i s = _mm_set1_epi32(static_cast<int>(sig));
  const __m128i lo = _mm_load_si128(reinterpret_cast<const __m128i *>(&b.sig[0]));
  const __m128i hi = _mm_load_si128(reinterpret_cast<const __m128i *>(&b.sig[4]));
  const uint32_t m = static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, s)))) |
                     static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, s)))) << 4;
  // x86 keeps loads in order; this stops the compiler hoisting the index
  // and entry loads above the signature load.
  std::atomic_thread_fence(std::memory_order_acquire);
  return m;
#endif
}

inline bool route_key_equal(const RouteKey &a, const RouteKey &b) {
  const auto *pa = reinterpret_cast<const __m128i *>(&a);
  const auto *pb = reinterpret_cast<const __m128i *>(&b);
  const __m128i eq = _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128(pa), _mm_loadu_si128(pb)),
                                   _mm_cmpeq_epi8(_mm_loadu_si128(pa + 1), _mm_loadu_si128(pb + 1)));
  return _mm_movemask_epi8(eq) == 0xffff;
}

// Full lookup of one key: every candidate, every overflow bucket.
inline const RouteEntry *route_lookup_one(const RouteHashView &v, const RouteKey &key, uint32_t hash) {
  const uint32_t sig = route_sig_of(hash);
  uint32_t b = route_bucket_of(hash, v.n_main);
  for (;;) {
    const RouteBucket &bk = v.buckets[b];
    for (uint32_t m = route_match_sigs(bk, sig); m; m &= m - 1) {
      const RouteEntry *e = &v.entries[bk.idx[__builtin_ctz(m)].load(std::memory_order_acquire)];
      if (route_key_equal(e->key, key)) return e;
    }
    b = bk.next.load(std::memory_order_acquire);
    if (b == kNoRouteBucket) return nullptr;
  }
}

inline const RouteBucket *route_bucket(const RouteHashView &v, uint32_t hash) {
  return &v.buckets[route_bucket_of(hash, v.n_main)];
}

// Looks up n <= 64 keys whose hashes and main buckets (route_bucket(),
// ideally prefetched) the caller has; out[i] = entry or nullptr, and
// on_hit(i, entry) runs as soon as a key is confirmed, so the caller can
// start its own prefetches early. Returns the hit mask. Two passes so the
// entries' cache misses overlap: candidates and entry prefetches first, key
// compares second; anything unusual (a second candidate, an overflow chain)
// takes route_lookup_one.
template <typename OnHit>
inline uint64_t route_lookup_bulk(const RouteHashView &v, const RouteKey *keys, const uint32_t *hashes,
                                  const RouteBucket *const *buckets, uint16_t n, const RouteEntry **out,
                                  OnHit &&on_hit) {
  constexpr uint32_t kSlow = UINT32_MAX, kMiss = UINT32_MAX - 1;
  uint32_t first[64];
  for (uint16_t i = 0; i < n; i++) {
    const RouteBucket &bk = *buckets[i];
    const uint32_t m = route_match_sigs(bk, route_sig_of(hashes[i]));
    const bool simple = (m & (m - 1)) == 0 && bk.next.load(std::memory_order_acquire) == kNoRouteBucket;
    if (m == 0 && simple) {
      first[i] = kMiss;
    } else if (simple) {
      first[i] = bk.idx[__builtin_ctz(m)].load(std::memory_order_acquire);
      rte_prefetch0(&v.entries[first[i]]);
    } else {
      first[i] = kSlow;
    }
  }
  uint64_t hits = 0;
  for (uint16_t i = 0; i < n; i++) {
    const RouteEntry *e;
    if (first[i] == kMiss) e = nullptr;
    else if (first[i] == kSlow) e = route_lookup_one(v, keys[i], hashes[i]);
    else e = route_key_equal(v.entries[first[i]].key, keys[i]) ? &v.entries[first[i]] : nullptr;
    out[i] = e;
    if (e) {
      hits |= uint64_t{1} << i;
      on_hit(i, *e);
    }
  }
  return hits;
}

inline uint64_t route_lookup_bulk(const RouteHashView &v, const RouteKey *keys, const uint32_t *hashes,
                                  uint16_t n, const RouteEntry **out) {
  const RouteBucket *buckets[64];
  for (uint16_t i = 0; i < n; i++) buckets[i] = route_bucket(v, hashes[i]);
  return route_lookup_bulk(v, keys, hashes, buckets, n, out, [](uint16_t, const RouteEntry &) {});
}

// The writer's side. Not thread-safe: the control thread only.
class RouteHash {
 public:
  // Room for `capacity` keys whatever their hashes. Throws std::runtime_error
  // if memory is short.
  RouteHash(uint32_t capacity, const RouteEntry *entries, int socket_id);
  ~RouteHash();
  RouteHash(const RouteHash &) = delete;
  RouteHash &operator=(const RouteHash &) = delete;

  // A key's place; a default Slot is "not found".
  struct Slot {
    uint32_t bucket = kNoRouteBucket;
    uint32_t slot = UINT32_MAX;
    explicit operator bool() const { return slot != UINT32_MAX; }
  };

  // Where `key` is, or Slot{}.
  Slot find(const RouteKey &key, uint32_t hash) const;
  uint32_t entry_at(Slot s) const { return buckets_[s.bucket].idx[s.slot].load(std::memory_order_relaxed); }
  // Publishes a new key whose entry `entry_idx` is fully written. False only
  // when the overflow pool is exhausted, which `capacity` keys never cause.
  bool insert(uint32_t hash, uint32_t entry_idx);
  // Points an existing key at a new entry (release): readers see the old or
  // the new one, both intact.
  void replace(Slot s, uint32_t entry_idx) { buckets_[s.bucket].idx[s.slot].store(entry_idx, std::memory_order_release); }
  void erase(Slot s) { buckets_[s.bucket].sig[s.slot].store(0, std::memory_order_release); }

  // Calls f(entry_idx) for every key.
  template <typename F>
  void for_each(F &&f) const {
    for_each_from(0, SIZE_MAX, f);
  }

  // Calls f(entry_idx) for the keys of main buckets `first`, `first` + 1, ...
  // (each with its overflow chain) until at least `min_keys` keys were
  // visited or the table ends; returns the next main bucket to visit, n_main()
  // at the end. A page of a listing: keys never move between buckets, so
  // pages from 0 to n_main() list every key once (a key added or removed
  // meanwhile may or may not appear).
  template <typename F>
  uint32_t for_each_from(uint32_t first, size_t min_keys, F &&f) const {
    size_t visited = 0;
    uint32_t b = first;
    for (; b < n_main_ && visited < min_keys; b++) {
      // Main bucket b first, then its overflow chain. kNoRouteBucket is 0, a
      // main bucket's number too: the chain test must come after visiting b,
      // or main bucket 0 is never listed.
      uint32_t x = b;
      do {
        for (uint32_t s = 0; s < kRouteBucketSlots; s++)
          if (buckets_[x].sig[s].load(std::memory_order_relaxed) != 0) {
            f(buckets_[x].idx[s].load(std::memory_order_relaxed));
            visited++;
          }
        x = buckets_[x].next.load(std::memory_order_relaxed);
      } while (x != kNoRouteBucket);
    }
    return b;
  }
  uint32_t n_main() const { return n_main_; }

  RouteHashView view() const { return RouteHashView{buckets_, n_main_, entries_}; }
  size_t memory_bytes() const { return sizeof(RouteBucket) * (size_t{n_main_} + n_overflow_); }
  uint32_t overflow_buckets_used() const { return overflow_used_; }

 private:
  RouteBucket *buckets_ = nullptr;
  uint32_t n_main_ = 0;
  uint32_t n_overflow_ = 0;
  uint32_t overflow_used_ = 0;  // overflow buckets are linked for good, never returned
  const RouteEntry *entries_;
};

}  // namespace nvmove::dp
