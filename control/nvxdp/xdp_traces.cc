#include "control/nvxdp/xdp_traces.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "control/base/clock.h"
#include "control/nved/frame_summary.h"
#include "control/nved/show_tables.h"
#include "dataplane/counters.h"
#include "drivers/xdp/nve_xdp_abi.h"

namespace nvmove {

using ctl::Reply;
using Args = std::vector<std::string>;

namespace {

constexpr size_t kKept = 10000;  // records kept for show trace (nved traces at most 10,000 a command too)

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns()'s clock
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

}  // namespace

XdpTraces::XdpTraces(drivers::XdpProgram &prog, const std::vector<XdpPort> &ports, const NvedConfig &cfg)
    : prog_(prog), ports_(ports), cfg_(cfg) {
  ring_ = ring_buffer__new(prog_.trace_ring_fd(), &XdpTraces::on_record, this, nullptr);
  if (!ring_) throw std::runtime_error(std::string("packet trace ring: ") + std::strerror(errno));
}

XdpTraces::~XdpTraces() { ring_buffer__free(ring_); }

int XdpTraces::on_record(void *self, void *data, size_t size) {
  auto &me = *static_cast<XdpTraces *>(self);
  if (size < sizeof(nve_xdp_trace)) return 0;
  nve_xdp_trace t;
  std::memcpy(&t, data, sizeof t);
  Record r{++me.seq_, t.ns, t.port, t.cpu, t.in_len, t.out_len, t.verdict,
           std::vector<uint64_t>(t.moved, t.moved + NVE_XDP_TRACE_WORDS),
           std::vector<uint8_t>(t.in, t.in + std::min<uint32_t>(t.in_len, NVE_XDP_TRACE_BYTES)),
           std::vector<uint8_t>(t.out, t.out + std::min<uint32_t>(t.out_len, NVE_XDP_TRACE_BYTES))};
  me.records_.push_back(std::move(r));
  if (me.records_.size() > kKept) me.records_.pop_front();
  return 0;
}

void XdpTraces::poll() { ring_buffer__consume(ring_); }

void XdpTraces::register_commands(ctl::CtlServer &s) {
  s.on("trace add", [this](const Args &a) { return trace_add(a); });
  s.on("show trace", [this](const Args &a) { return a.empty() ? show_trace() : Reply::bad_usage(); });
  s.on("clear trace", [this](const Args &a) { return a.empty() ? clear_trace() : Reply::bad_usage(); });
}

Reply XdpTraces::trace_add(const Args &a) {
  if (a.size() != 2) return Reply::bad_usage();
  const XdpPort *named = port_named(ports_, cfg_, a[0]);
  if (!named) return Reply::bad_usage("no port " + a[0]);
  const uint16_t port = named->cfg->port_id;
  const auto n = parse_decimal(a[1], kKept);
  if (!n || *n == 0) return Reply::bad_usage("N: expected a number 1.." + std::to_string(kKept));
  prog_.set_trace(port, static_cast<int32_t>(*n));
  Reply r;
  r.text = "tracing the next " + std::to_string(*n) + " packet(s) received on port " + std::to_string(port) +
           " (every CPU): show trace\n";
  return r;
}

// Where the program sent it: back out the port it came in (XDP_TX), to the
// port whose MAC the frame now comes from (a redirect), the slow path or
// the kernel (XDP_PASS).
std::string XdpTraces::output_text(const Record &r) const {
  const std::string bytes = std::to_string(r.out_len) + " bytes: " + frame_summary(r.out.data(), r.out.size());
  if (r.verdict == XDP_TX) return "port " + std::to_string(r.port) + ", " + bytes;
  if (r.verdict == XDP_REDIRECT) {
    for (const XdpPort &p : ports_)
      if (r.out.size() >= 12 && std::memcmp(r.out.data() + 6, p.mac.data(), 6) == 0)
        return "port " + std::to_string(p.cfg->port_id) + ", " + bytes;
    return "redirected, " + bytes;
  }
  if (r.verdict == XDP_PASS) {
    if (r.out.size() >= 14 && r.out[12] == (NVE_XDP_SLOW_ETHERTYPE >> 8) && r.out[13] == (NVE_XDP_SLOW_ETHERTYPE & 0xff))
      return "to nvxdp's slow path (fragmented there)";
    return "passed to the kernel";
  }
  return "-";
}

Reply XdpTraces::show_trace() const {
  ctl::Table t({{"cpu", "CPU", 6}, {"packet", "#", 6}, {"port", "PORT", 6}, {"length", "LEN", 6},
                {"received", "RECEIVED", 0}});
  std::string text;
  const uint64_t now = monotonic_ns();
  for (const Record &r : records_) {
    std::string moved;
    bool dropped = false;
    for (size_t c = 0; c < dp::kCounterCount; c++) {
      if (!(r.moved[c / 64] >> (c % 64) & 1) || c == static_cast<size_t>(dp::Counter::rx_packets)) continue;
      moved += (moved.empty() ? "" : " ") + std::string(dp::kCounterInfo[c].name);
      dropped |= dp::kCounterInfo[c].is_drop;
    }
    if (moved.empty()) moved = "-";
    dropped |= r.verdict == XDP_DROP || r.verdict == XDP_ABORTED;
    const std::string in = frame_summary(r.in.data(), r.in.size());
    const std::string out = output_text(r);
    const double ago = double(now > r.ns ? now - r.ns : 0) / 1e9;
    add_traced_packet(t, text, {"cpu", r.cpu, r.seq, r.port, r.in_len, in, moved, out, dropped, ago});
  }
  Reply reply;
  reply.text = text.empty() ? "no packet traced (trace add PORT N first)\n" : text;
  reply.data = std::move(t).json();
  return reply;
}

Reply XdpTraces::clear_trace() {
  for (const XdpPort &p : ports_) prog_.set_trace(p.cfg->port_id, 0);
  ring_buffer__consume(ring_);  // what was on its way, then forgotten
  records_.clear();
  Reply r;
  r.text = "trace stopped and cleared\n";
  return r;
}

}  // namespace nvmove
