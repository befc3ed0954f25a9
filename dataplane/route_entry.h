// What the fast path reads: host route keys, entries, per-route statistics and
// the outer-header templates of destination NVEs. Written only by the control
// thread (RouteTable), read by workers without locks.
#pragma once

#include <nmmintrin.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace nvmove::dp {

inline constexpr uint8_t kFamilyV4 = 4;
inline constexpr uint8_t kFamilyV6 = 6;

// 32 bytes, no padding holes left uninitialised: the hash compares raw bytes,
// two 16-byte vector compares.
struct RouteKey {
  uint32_t vn;
  uint8_t family;
  uint8_t pad[3];
  uint8_t addr[16];  // IPv4 in the first 4 bytes, rest zero
  uint8_t pad2[8];
};
static_assert(sizeof(RouteKey) == 32);

inline void make_key_v4(RouteKey &k, uint32_t vn, const void *addr4) {
  std::memset(&k, 0, sizeof k);
  k.vn = vn;
  k.family = kFamilyV4;
  std::memcpy(k.addr, addr4, 4);
}

inline void make_key_v6(RouteKey &k, uint32_t vn, const void *addr16) {
  k.vn = vn;
  k.family = kFamilyV6;
  k.pad[0] = k.pad[1] = k.pad[2] = 0;
  std::memcpy(k.addr, addr16, 16);
  std::memset(k.pad2, 0, sizeof k.pad2);
}

// The route hash: CRC32C (SSE4.2) of the key's bytes that can be nonzero:
// word 0 (vn + family), then the 4-byte IPv4 address or the two 64-bit words
// of the IPv6 address. The fast path computes it inline while it builds the
// key, from registers, and prefetches the key's bucket right away; a short
// CRC chain is fewer instructions and less latency before that prefetch.
// CRC is linear, so how well keys spread depends on where they differ: fed
// last and at their own width, the address bytes that vary between a VM and
// the next spread sequential and strided addresses over the buckets as well
// as random hashes or better (an IPv4 address as a zero-extended 64-bit word
// did not: 6% of a million sequential keys overflowed their bucket). The
// unit tests check the spread of the common address plans.
//
// The hash in two steps, so the fast path can do the first once per burst:
// the CRC of word 0, then the address continuing from it.
inline uint32_t route_key_prefix_crc(uint64_t w0) { return static_cast<uint32_t>(_mm_crc32_u64(0, w0)); }

inline uint32_t route_key_hash_v4(uint32_t prefix_crc, uint32_t addr) {
  return static_cast<uint32_t>(_mm_crc32_u32(prefix_crc, addr));
}

inline uint32_t route_key_hash_v6(uint32_t prefix_crc, uint64_t a0, uint64_t a1) {
  return static_cast<uint32_t>(_mm_crc32_u64(_mm_crc32_u64(prefix_crc, a0), a1));
}

// Equal keys hash alike: the bytes left out are zero in every key
// make_key_v4/v6 build.
inline uint32_t route_key_hash(const RouteKey &k) {
  uint64_t w[3];
  std::memcpy(w, &k, sizeof w);
  const uint32_t prefix = route_key_prefix_crc(w[0]);
  return k.family == kFamilyV4 ? route_key_hash_v4(prefix, static_cast<uint32_t>(w[1]))
                               : route_key_hash_v6(prefix, w[1], w[2]);
}

// What every key of one virtual network starts with: word 0 (vn + family) and
// the CRC over it, computed once per burst by the fast path, which then
// hashes only the address words of each packet.
struct KeyPrefix {
  uint64_t w0_v4, w0_v6;
  uint32_t crc_v4, crc_v6;
};

inline KeyPrefix key_prefix(uint32_t vn) {
  KeyPrefix p;
  p.w0_v4 = uint64_t{vn} | (uint64_t{kFamilyV4} << 32);
  p.w0_v6 = uint64_t{vn} | (uint64_t{kFamilyV6} << 32);
  p.crc_v4 = route_key_prefix_crc(p.w0_v4);
  p.crc_v6 = route_key_prefix_crc(p.w0_v6);
  return p;
}

// An IPv4 key straight from registers: word 0 is vn + family, word 1 the
// address, words 2-3 zero. Returns route_key_hash() of it; `k` gets the same
// bytes as make_key_v4 for the hash's key compare.
inline uint32_t make_key_v4_hashed(RouteKey &k, const KeyPrefix &p, const void *addr4) {
  uint32_t a;
  std::memcpy(&a, addr4, 4);
  const uint64_t w1 = a;
  std::memcpy(reinterpret_cast<uint8_t *>(&k), &p.w0_v4, 8);
  std::memcpy(reinterpret_cast<uint8_t *>(&k) + 8, &w1, 8);
  std::memset(reinterpret_cast<uint8_t *>(&k) + 16, 0, 16);
  return route_key_hash_v4(p.crc_v4, a);
}

inline uint32_t make_key_v6_hashed(RouteKey &k, const KeyPrefix &p, const void *addr16) {
  uint64_t a0, a1;
  std::memcpy(&a0, addr16, 8);
  std::memcpy(&a1, static_cast<const uint8_t *>(addr16) + 8, 8);
  std::memcpy(reinterpret_cast<uint8_t *>(&k), &p.w0_v6, 8);
  std::memcpy(reinterpret_cast<uint8_t *>(&k) + 8, &a0, 8);
  std::memcpy(reinterpret_cast<uint8_t *>(&k) + 16, &a1, 8);
  std::memset(reinterpret_cast<uint8_t *>(&k) + 24, 0, 8);
  return route_key_hash_v6(p.crc_v6, a0, a1);
}

// kRouteOwn: one of this NVE's endpoints (virtual_networks): the packet is
// ours, and classify_full() handles it as it handles the main address.
// kRouteTunnelPeer: another NVE's underlay address learnt from nvad, keyed in
// kTunnelPeerVn (common/route_change.h): tunnels from it are decapsulated.
enum RouteKind : uint8_t { kRouteLocal = 1, kRouteTunnel = 2, kRouteOwn = 3, kRouteTunnelPeer = 4 };

// Immutable once published: a change publishes a new entry and retires the old
// one through RCU, so a worker never sees a half-written entry. The key lives
// in the entry (one cache line for the lookup's compare and the action).
struct alignas(64) RouteEntry {
  RouteKey key;
  uint8_t kind;
  uint8_t pad0;
  uint16_t port;      // kRouteLocal: access port
  uint16_t vlan_tci;  // kRouteLocal: 0 = untagged
  uint16_t pad1;
  uint32_t stat_idx;  // index into each worker's RouteStat array
  uint32_t nve_idx;   // kRouteTunnel: slot in the NVE template table
  uint8_t vm_mac[6];  // kRouteLocal
  uint8_t pad2[2];
  uint32_t own_vn;    // kRouteOwn: the VN this endpoint's tunnels carry
  uint8_t pad3[4];
};
static_assert(sizeof(RouteEntry) == 64);

// Per worker, per route. Written by one worker only.
struct RouteStat {
  std::atomic<uint64_t> hits;
  std::atomic<uint64_t> last_tsc;
};

// One more hit at `now_tsc`. The owning worker is the only writer: a plain
// load and store, no read-modify-write atomic in the fast path.
inline void record_hit(RouteStat &st, uint64_t now_tsc) {
  st.hits.store(st.hits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  st.last_tsc.store(now_tsc, std::memory_order_relaxed);
}

// The precomputed Ethernet + outer IP header toward one destination NVE
// (VPP's "rewrite"): the worker copies it and fixes lengths, TOS/traffic
// class, DF, ID, flow label and checksum.
struct alignas(64) TunnelTemplate {
  uint8_t outer_family;  // kFamilyV4 or kFamilyV6
  uint8_t hdr_len;       // 14 + 20 or 14 + 40
  uint16_t out_port;
  uint8_t resolved;      // 0 while the fabric gateway's MAC is unknown
  uint8_t pad[3];
  uint32_t ipv4_csum_partial;  // one's complement sum of the constant outer IPv4 words
  uint16_t encap_counter[2];   // the Counter of an IPv4 [0] / IPv6 [1] inner packet
  uint8_t hdr[14 + 40];
};

// Where packets without a host route go (the fabric gateway), per family.
struct GatewayL2 {
  uint16_t port;
  uint8_t resolved4;
  uint8_t resolved6;
  uint8_t eth4[12];  // dst MAC + src MAC toward the IPv4 gateway
  uint8_t eth6[12];
};

}  // namespace nvmove::dp
