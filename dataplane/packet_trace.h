// Packet trace, VPP's `trace add` for nved: the control thread arms a worker
// for the next N packets of a port; the worker then runs those packets one
// at a time through the unchanged burst pipeline and records, for each, its
// first bytes on arrival, every counter it moved (classification, lookup
// outcome, action, drop reason: the counters name them) and what left on
// which port. Unarmed, the cost is one relaxed load and a not-taken branch
// per received burst, in the worker loop (process_burst itself is
// untouched, so the benchmark's instruction counts cannot change).
//
// The worker writes records into its own ring and publishes their count
// with a release store; the control thread reads them with acquire loads
// and discards any record the ring overwrote while it was reading.
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>

#include "dataplane/counters.h"

namespace nvmove::dp {

struct WorkerContext;

inline constexpr uint16_t kTraceAnyPort = 0xffff;
inline constexpr uint16_t kTraceNoOutput = 0xffff;
inline constexpr size_t kTraceRing = 128;   // records kept per worker
inline constexpr size_t kTraceHead = 96;    // bytes of each packet kept
inline constexpr size_t kTraceCounterWords = (kCounterCount + 63) / 64;

struct TraceRecord {
  uint64_t seq = 0;  // per worker, from 1
  uint64_t tsc = 0;
  uint16_t in_port = 0;
  uint16_t out_port = kTraceNoOutput;  // the first port something left on
  uint16_t outputs = 0;                // packets that left (fragments, ICMP errors...)
  uint32_t len = 0, out_len = 0;
  uint8_t head[kTraceHead] = {};
  uint8_t out_head[kTraceHead] = {};
  uint64_t counters[kTraceCounterWords] = {};  // bit c: counter c moved
  bool moved(size_t c) const { return (counters[c / 64] >> (c % 64)) & 1; }
};

struct PacketTrace {
  std::atomic<uint32_t> remaining{0};       // armed while non-zero (control stores, worker takes tokens by CAS)
  std::atomic<uint16_t> port{kTraceAnyPort};
  std::atomic<uint64_t> written{0};         // records published (release)
  TraceRecord ring[kTraceRing];

  // Control thread: trace the next `n` packets received on `port`.
  void arm(uint16_t on_port, uint32_t n) {
    port.store(on_port, std::memory_order_relaxed);
    remaining.store(n, std::memory_order_release);
  }
  void disarm() { remaining.store(0, std::memory_order_release); }
};

// Worker: process_burst() with the packets the trace wants handled and
// recorded one by one. Call only when trace.remaining is non-zero.
void process_burst_traced(WorkerContext &ctx, uint16_t in_port, rte_mbuf **pkts, uint16_t n);

}  // namespace nvmove::dp
