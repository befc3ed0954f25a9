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
      auto &row = t.add({w, seq, r.in_port, r.len, in});
      row.extra = {{"counters", moved}, {"dropped", dropped}, {"seconds_ago", ago},
                   {"output", r.out_port == dp::kTraceNoOutput ? nlohmann::json(nullptr) : nlohmann::json(out)}};
      char head[160];
      std::snprintf(head, sizeof head, "worker %zu packet %llu: port %u, %u bytes, %s%s\n", w,
                    (unsigned long long)seq, r.in_port, r.len, ago_text(ago).c_str(), dropped ? ", DROPPED" : "");
      text += head;
      text += "  in:       " + in + "\n  counters: " + moved + "\n  out:      " + out + "\n";
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
Reply explain(NvedRuntime &rt, const NvedConfig &cfg, const Args &a) {
  if (a.size() != 3 || a[0] != "vn") return Reply::bad_usage();
  const auto vn = parse_decimal(a[1], 0xffffff);
  if (!vn) return Reply::bad_usage("vn: expected a number 0..16777215");
  const auto address = IpAddress::parse(a[2]);
  if (!address) return Reply::bad_usage("'" + a[2] + "' is not an IPv4 or IPv6 address");
  ctl::Record rec(12, 0);
  rec.add({"vn", *vn});
  rec.add({"address", address->to_string()});
  const auto route = rt.routes().find({static_cast<uint32_t>(*vn), *address});
  if (!route) {
    rec.add({"route", ctl::Cell::shown_as(nullptr, "none")});
    rec.add({"action", cfg.default_forward ? "default: forwarded to the fabric gateway unchanged (forwarded_default)"
                                           : "default: dropped (drop_no_route)"});
    return Reply::of(std::move(rec));
  }
  if (const auto *l = std::get_if<DeliverLocal>(&route->action)) {
    rec.add({"route", "local"});
    rec.add({"action", "delivered on port " + std::to_string(l->port) + " to " + mac_to_string(l->vm_mac) +
                           (l->vlan ? " vlan " + std::to_string(l->vlan) : "") + ", TTL / hop limit - 1 (delivered_local)"});
  } else if (const auto *tn = std::get_if<TunnelToNve>(&route->action)) {
    rec.add({"route", "tunnel"});
    const bool v4 = tn->nve.is_v4();
    const IpAddress &src = v4 ? cfg.nve_ipv4 : cfg.nve_ipv6;
    const std::string inner = address->is_v4() ? "IPv4" : "IPv6";
    rec.add({"action", inner + "-in-" + (v4 ? "IPv4" : "IPv6") + " from " + src.to_string() + " to " +
                           tn->nve.to_string() + " via the fabric gateway, outer TTL " +
                           std::to_string(cfg.tunnel_ttl) + ", DSCP " +
                           (cfg.tunnel_dscp < 0 ? std::string("copied") : std::to_string(cfg.tunnel_dscp)) +
                           ", tunnel MTU " + std::to_string(cfg.tunnel_mtu) + " (encap_" +
                           (address->is_v4() ? "ipv4" : "ipv6") + "_in_" + (v4 ? "ipv4" : "ipv6") + ")"});
  } else if (const auto *own = std::get_if<OwnEndpoint>(&route->action)) {
    const uint32_t carried = own->vn;
    rec.add({"route", "endpoint"});
    rec.add({"action", "this NVE's tunnel endpoint for vn " + std::to_string(carried) +
                           ": a tunnel to it from a tunnel peer is decapsulated into vn " + std::to_string(carried)});
  }
  rec.add({"hits", route->hits});
  return Reply::of(std::move(rec));
}

}  // namespace

void register_trace_commands(ctl::CtlServer &s, NvedRuntime &rt, const NvedConfig &cfg) {
  auto state = std::make_shared<TraceState>();
  state->shown_from.assign(rt.worker_count(), 0);
  s.on("trace add", [&rt, &cfg](const Args &a) { return trace_add(rt, cfg, a); });
  s.on("show trace", [&rt, state](const Args &a) { return a.empty() ? show_trace(rt, *state) : Reply::bad_usage(); });
  s.on("clear trace", [&rt, state](const Args &a) { return a.empty() ? clear_trace(rt, *state) : Reply::bad_usage(); });
  s.on("explain", [&rt, &cfg](const Args &a) { return explain(rt, cfg, a); });
}

}  // namespace nvmove
