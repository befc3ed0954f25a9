#include "dataplane/packet_trace.h"

#include <algorithm>
#include <cstring>

#include "dataplane/burst_pipeline.h"
#include "dataplane/worker_context.h"

namespace nvmove::dp {

namespace {

void copy_head(const rte_mbuf *m, uint8_t *to, uint32_t &len) {
  len = rte_pktmbuf_pkt_len(m);
  const uint32_t n = std::min<uint32_t>(len, kTraceHead);
  const void *p = rte_pktmbuf_read(m, 0, n, to);
  if (p != to) std::memcpy(to, p, n);
}

}  // namespace

void process_burst_traced(WorkerContext &ctx, uint16_t in_port, rte_mbuf **pkts, uint16_t n) {
  PacketTrace &t = ctx.trace;
  uint16_t done = 0;
  while (done < n) {
    // The count first (acquire: arm() stored the port before it), then a
    // token taken with compare-exchange, so a disarm or a new arm from the
    // control thread in between is never overwritten.
    uint32_t left = t.remaining.load(std::memory_order_acquire);
    const uint16_t want_port = t.port.load(std::memory_order_relaxed);
    if (left == 0 || (want_port != kTraceAnyPort && want_port != in_port)) break;
    if (!t.remaining.compare_exchange_strong(left, left - 1, std::memory_order_acq_rel)) continue;
    // One packet through the real pipeline, its effects measured around it.
    const uint64_t seq = t.written.load(std::memory_order_relaxed) + 1;
    TraceRecord &r = t.ring[(seq - 1) % kTraceRing];
    r = TraceRecord{};
    r.seq = seq;
    r.tsc = rte_rdtsc();
    r.in_port = in_port;
    copy_head(pkts[done], r.head, r.len);
    uint64_t before[kCounterCount];
    for (size_t c = 0; c < kCounterCount; c++) before[c] = ctx.counters.v[c].load(std::memory_order_relaxed);
    uint16_t out_before[kMaxPorts];
    for (uint16_t p = 0; p < kMaxPorts; p++) out_before[p] = ctx.out[p].n;
    process_burst(ctx, in_port, &pkts[done], 1);
    for (size_t c = 0; c < kCounterCount; c++)
      if (ctx.counters.v[c].load(std::memory_order_relaxed) != before[c]) r.counters[c / 64] |= uint64_t{1} << (c % 64);
    for (uint16_t p = 0; p < kMaxPorts; p++) {
      if (ctx.out[p].n == out_before[p]) continue;
      r.outputs = static_cast<uint16_t>(r.outputs + ctx.out[p].n - out_before[p]);
      if (r.out_port == kTraceNoOutput) {
        r.out_port = p;
        copy_head(ctx.out[p].pkts[out_before[p]], r.out_head, r.out_len);
      }
    }
    t.written.store(seq, std::memory_order_release);
    done++;
  }
  if (done < n) process_burst(ctx, in_port, pkts + done, static_cast<uint16_t>(n - done));
}

}  // namespace nvmove::dp
