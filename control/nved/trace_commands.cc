#include "control/nved/trace_commands.h"

#include "control/base/clock.h"

#include <rte_cycles.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "control/nved/config.h"
#include "control/nved/frame_summary.h"
#include "control/nved/runtime.h"
#include "control/nved/show_tables.h"
#include "dataplane/packet_trace.h"

namespace nvmove {

using ctl::Reply;
using Args = std::vector<std::string>;

namespace {

constexpr uint32_t kMaxTracePackets = 10000;

// What the control thread keeps between commands: per worker, the first
// record `show trace` lists (clear trace moves it past what was recorded).
struct TraceState {
  std::vector<uint64_t> shown_from;
};

Reply trace_add(NvedRuntime &rt, const NvedConfig &cfg, const Args &a) {
  if (a.size() != 2) return Reply::bad_usage();
  const uint16_t port = cfg.port_argument(a[0], rt.n_ports());
  const auto n = parse_decimal(a[1], kMaxTracePackets);
  if (!n || *n == 0) return Reply::bad_usage("N: expected a number 1.." + std::to_string(kMaxTracePackets));
  for (size_t w = 0; w < rt.worker_count(); w++) rt.worker_trace(w).arm(port, static_cast<uint32_t>(*n));
  Reply r;
  r.text = "tracing the next " + std::to_string(*n) + " packet(s) received on port " + std::to_string(port) +
           " by each of " + std::to_string(rt.worker_count()) + " worker(s): show trace\n";
  return r;
}

std::string counters_moved(const dp::TraceRecord &r, bool &dropped) {
  std::string s;
  dropped = false;
  for (size_t c = 0; c < dp::kCounterCount; c++) {
    if (!r.moved(c) || c == static_cast<size_t>(dp::Counter::rx_packets)) continue;
    s += (s.empty() ? "" : " ") + std::string(dp::kCounterInfo[c].name);
    dropped |= dp::kCounterInfo[c].is_drop;
  }
  return s.empty() ? "-" : s;
}

Reply show_trace(NvedRuntime &rt, TraceState &state) {
  // JSON: one row per packet (the table model); text: a block per packet,
  // VPP style, which reads better than one very wide row.
  ctl::Table t({{"worker", "WORKER", 8}, {"packet", "#", 6}, {"port", "PORT", 6}, {"length", "LEN", 6},
                {"received", "RECEIVED", 0}});
  std::string text;
  const uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
  for (size_t w = 0; w < rt.worker_count(); w++) {
    const dp::PacketTrace &tr = rt.worker(w).trace;
    const uint64_t written = tr.written.load(std::memory_order_acquire);
    uint64_t first = std::max(state.shown_from[w] + 1, written > dp::kTraceRing ? written - dp::kTraceRing + 1 : 1);
    for (uint64_t seq = first; seq <= written; seq++) {
      const dp::TraceRecord r = tr.ring[(seq - 1) % dp::kTraceRing];
      // Overwritten, or being rewritten, while it was copied: the worker
      // writes record `written + 1` into the slot before publishing it.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (tr.written.load(std::memory_order_acquire) + 1 - seq >= dp::kTraceRing || r.seq != seq) continue;
      bool dropped = false;
      const std::string moved = counters_moved(r, dropped);
      const std::string in = frame_summary(r.head, std::min<size_t>(r.len, dp::kTraceHead));
      std::string out = "-";
      if (r.out_port != dp::kTraceNoOutput)
        out = "port " + std::to_string(r.out_port) + ", " + std::to_string(r.out_len) + " bytes" +
              (r.outputs > 1 ? " (" + std::to_string(r.outputs) + " packets)" : "") + ": " +
              frame_summary(r.out_head, std::min<size_t>(r.out_len, dp::kTraceHead));
      const double ago = double(now > r.tsc ? now - r.tsc : 0) / double(hz);
      add_traced_packet(t, text, {"worker", w, seq, r.in_port, r.len, in, moved, out, dropped, ago});
    }
  }
  Reply r;
  r.text = text.empty() ? "no packet traced (trace add PORT N first)\n" : text;
  r.data = std::move(t).json();
  return r;
}

Reply clear_trace(NvedRuntime &rt, TraceState &state) {
  for (size_t w = 0; w < rt.worker_count(); w++) {
    rt.worker_trace(w).disarm();
    state.shown_from[w] = rt.worker(w).trace.written.load(std::memory_order_acquire);
  }
  Reply r;
  r.text = "trace stopped and cleared\n";
  return r;
}

// What the fast path would do with a packet to (vn, address) arriving now.
}  // namespace

void register_trace_commands(ctl::CtlServer &s, NvedRuntime &rt, const NvedConfig &cfg) {
  auto state = std::make_shared<TraceState>();
  state->shown_from.assign(rt.worker_count(), 0);
  s.on("trace add", [&rt, &cfg](const Args &a) { return trace_add(rt, cfg, a); });
  s.on("show trace", [&rt, state](const Args &a) { return a.empty() ? show_trace(rt, *state) : Reply::bad_usage(); });
  s.on("clear trace", [&rt, state](const Args &a) { return a.empty() ? clear_trace(rt, *state) : Reply::bad_usage(); });
}

}  // namespace nvmove
