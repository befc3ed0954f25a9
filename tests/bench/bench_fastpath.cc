// Fast path cost without port I/O: the worker's burst function on prebuilt
// packets, TSC cycles per packet, for a route table of N host routes with a
// given share of moved-VM (tunnel) routes and uniformly random destinations.
// Also: route installation rate while a worker forwards (and the worker's
// dip), and the RCU grace period. Prints `RESULT name value unit` lines.
//
//   nve_bench_fastpath [--quick] [--routes N,N..] [--moved PCT,PCT..] [--family 4|6|both]
//                      [--packets N] [--rx-cksum-offload] [--workers N] [--frames N]
// --rx-cksum-offload: the frames arrive marked RTE_MBUF_F_RX_IP_CKSUM_GOOD, as
// from a port with RX IPv4 checksum offload (every SR-IOV NIC nved targets);
// the figures' names get the suffix _rxoffload.
// --workers N (N > 1): scaling with worker cores instead. Each case runs one
// worker alone, then N at once (one per lcore, each with its own packets and
// statistics array, all reading the one table), alternating three times;
// reports the aggregate rate and its ratio to one worker's.
// --frames N: distinct prebuilt packets (and mbufs) per worker, default 8192.
// --golden: instead, the unit tests' golden packets (tests/support/golden_packets.cc)
// on the unit tests' test bed, each row timed alone: RESULT golden_<row>.
// --control PCT: that share of the frames is control traffic for this NVE
// (ARP requests for its address and pings to it, half each), which the
// workers answer themselves when no rte_flow rule steers it to a queue of
// its own (issue 17: the software fallback's cost); figures get _ctlPCTpct.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/burst_pipeline.h"
#include "dataplane/rcu.h"
#include "dataplane/route_table.h"
#include "tests/support/dataplane_testbed.h"
#include "tests/support/golden_packets.h"

using namespace nvmove;
using namespace nvmove::dp;

namespace {

constexpr uint16_t kFrameLen = 64;
uint32_t g_frames = 8192;  // distinct prebuilt packets per worker, recycled (--frames)
uint32_t g_control_pct = 0;  // --control
// --jumbo one|chain: 9000-byte IP packets in one large mbuf, or as RX
// scatter gives them, a chain of 2 KiB mbufs (workers.rx_scatter).
enum class Jumbo { Off, One, Chain } g_jumbo = Jumbo::Off;
constexpr uint32_t kJumboLen = 14 + 9000;
constexpr uint16_t kSegment = RTE_MBUF_DEFAULT_DATAROOM;
uint32_t frame_len() { return g_jumbo == Jumbo::Off ? kFrameLen : kJumboLen; }

IpAddress route_addr(uint8_t family, uint32_t i) {
  IpAddress a;
  a.family = family;
  if (family == 4) {
    const uint32_t v = 0x0a000000u + i;  // 10.0.0.0/8 holds 16M routes
    a.bytes = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  } else {
    a.bytes = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(i >> 24), uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)};
  }
  return a;
}

std::vector<uint8_t> make_frame(uint8_t family, const IpAddress &dst) {
  std::vector<uint8_t> f(kFrameLen, 0);
  const uint8_t our[6] = {2, 0, 0, 0, 0, 1}, gw[6] = {2, 0, 0, 0, 0, 0xfe};
  std::memcpy(f.data(), our, 6);
  std::memcpy(f.data() + 6, gw, 6);
  uint8_t *l3 = f.data() + 14;
  if (family == 4) {
    f[12] = 0x08;
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(l3);
    ip->version_ihl = 0x45;
    ip->total_length = rte_cpu_to_be_16(kFrameLen - 14);
    ip->time_to_live = 64;
    ip->next_proto_id = 17;
    const uint8_t src[4] = {203, 0, 113, 7};
    std::memcpy(&ip->src_addr, src, 4);
    std::memcpy(&ip->dst_addr, dst.bytes.data(), 4);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    l3[20] = 0x30;
    l3[22] = 0x00;
    l3[23] = 0x50;
  } else {
    // 64-byte frames cannot hold IPv6+UDP with a payload length that fits:
    // use the shortest valid one (14 + 40 + 8 + 2 = 64).
    f[12] = 0x86;
    f[13] = 0xdd;
    auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(l3);
    ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip6->payload_len = rte_cpu_to_be_16(kFrameLen - 14 - 40);
    ip6->proto = 17;
    ip6->hop_limits = 64;
    const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    std::memcpy(ip6->src_addr, src, 16);
    std::memcpy(ip6->dst_addr, dst.bytes.data(), 16);
  }
  return f;
}

// Control traffic for the test bed's NVE (192.0.2.1, MAC 02:00:00:00:00:01)
// from its gateway: an ARP request for its address (odd `n`) or an ICMP echo
// request to it (even), padded to kFrameLen.
std::vector<uint8_t> make_control_frame(uint32_t n) {
  std::vector<uint8_t> f(kFrameLen, 0);
  const uint8_t our[6] = {2, 0, 0, 0, 0, 1}, gw[6] = {2, 0, 0, 0, 0, 0xfe};
  const uint8_t own[4] = {192, 0, 2, 1}, gw_ip[4] = {192, 0, 2, 254};
  std::memcpy(f.data() + 6, gw, 6);
  if (n & 1) {
    std::memset(f.data(), 0xff, 6);
    f[12] = 0x08, f[13] = 0x06;
    const uint8_t arp[8] = {0, 1, 8, 0, 6, 4, 0, 1};  // Ethernet/IPv4, request
    std::memcpy(f.data() + 14, arp, 8);
    std::memcpy(f.data() + 22, gw, 6);
    std::memcpy(f.data() + 28, gw_ip, 4);
    std::memcpy(f.data() + 38, own, 4);
    return f;
  }
  std::memcpy(f.data(), our, 6);
  f[12] = 0x08;
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  ip->version_ihl = 0x45;
  ip->total_length = rte_cpu_to_be_16(kFrameLen - 14);
  ip->time_to_live = 64;
  ip->next_proto_id = 1;
  std::memcpy(&ip->src_addr, gw_ip, 4);
  std::memcpy(&ip->dst_addr, own, 4);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  uint8_t *icmp = f.data() + 34;
  icmp[0] = 8;  // echo request
  icmp[5] = static_cast<uint8_t>(n);
  const uint16_t ck = rte_raw_cksum(icmp, kFrameLen - 34);
  const uint16_t folded = static_cast<uint16_t>(~ck);
  std::memcpy(icmp + 2, &folded, 2);
  return f;
}

struct Env {
  rte_mempool *pool, *direct, *indirect;
  rte_mempool *large = nullptr;  // --jumbo one
  rte_rcu_qsbr *qsbr;
};

// The test bed's outer headers and settings (tests/support/dataplane_testbed.h):
// the benchmark measures the configuration the unit tests check.
using testbed::fabric;

void fill_routes(RouteTable &t, uint8_t family, uint32_t n, uint32_t moved_pct, uint32_t first = 0) {
  std::vector<RouteChange> batch;
  batch.reserve(4096);
  for (uint32_t i = first; i < first + n; i++) {
    RouteChange c;
    c.route = {0, route_addr(family, i)};
    if ((i * 2654435761u) % 100 < moved_pct) {
      IpAddress nve = family == 4 ? *IpAddress::parse("198.51.100.10") : *IpAddress::parse("2001:db8::10");
      nve.bytes[family == 4 ? 3 : 15] += static_cast<uint8_t>(i % 8);  // 8 remote NVEs
      c.action = TunnelToNve{nve};
    } else {
      c.action = DeliverLocal{1, {2, 0, 0, 0, 1, 1}, 0};
    }
    batch.push_back(c);
    if (batch.size() == 4096) {
      t.apply(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) t.apply(batch);
}

bool g_rx_offload = false;
// Packets through process_burst, warm-up included (callgrind divides by it);
// each worker counts its own, summed at the end.
std::atomic<uint64_t> g_packets_processed{0};

struct Worker {
  DataplaneSettings settings;
  WorkerContext ctx;
  std::vector<rte_mbuf *> mbufs;
  std::vector<std::vector<uint8_t>> frames;  // the first kFrameLen bytes (headers) of each
  std::vector<std::vector<rte_mbuf *>> segments;  // --jumbo chain: each packet's segments

  Worker(Env &env, RouteTable &t, uint8_t family, uint32_t n_routes, uint16_t id = 0) {
    settings = testbed::settings();
    testbed::wire_worker(ctx, settings, t, id, env.qsbr, env.direct, env.indirect);
    ctx.tsc_hz = rte_get_tsc_hz();
    std::mt19937 rng(42 + id);  // workers draw different destinations
    std::uniform_int_distribution<uint32_t> pick(0, n_routes - 1);
    if (g_jumbo != Jumbo::Off) settings.tunnel_mtu = 9100;  // jumbo packets tunnelled whole
    for (uint32_t i = 0; i < g_frames; i++) {
      const bool control = (i * 2654435761u) % 100 < g_control_pct;
      frames.push_back(control ? make_control_frame(i) : make_frame(family, route_addr(family, pick(rng))));
      if (g_jumbo != Jumbo::Off) grow_to_jumbo(frames.back());
      mbufs.push_back(rte_pktmbuf_alloc(g_jumbo == Jumbo::One ? env.large : env.pool));
      if (!mbufs.back()) throw std::runtime_error("benchmark: out of mbufs");
      if (g_jumbo == Jumbo::Chain) {
        std::vector<rte_mbuf *> segs{mbufs.back()};
        for (uint32_t left = kJumboLen - kSegment; left > 0; left -= std::min<uint32_t>(left, kSegment)) {
          segs.push_back(rte_pktmbuf_alloc(env.pool));
          if (!segs.back()) throw std::runtime_error("benchmark: out of mbufs");
        }
        segments.push_back(std::move(segs));
      }
    }
  }

  // A 64-byte frame's headers made those of a 9000-byte IP packet (the
  // payload is never read: only the headers are copied back per packet).
  static void grow_to_jumbo(std::vector<uint8_t> &f) {
    uint8_t *l3 = f.data() + 14;
    if (f[12] == 0x08 && f[13] == 0x00) {
      auto *ip = reinterpret_cast<rte_ipv4_hdr *>(l3);
      ip->total_length = rte_cpu_to_be_16(kJumboLen - 14);
      ip->hdr_checksum = 0;
      ip->hdr_checksum = rte_ipv4_cksum(ip);
    } else if (f[12] == 0x86) {
      reinterpret_cast<rte_ipv6_hdr *>(l3)->payload_len = rte_cpu_to_be_16(kJumboLen - 14 - 40);
    }
  }
  ~Worker() {
    if (g_jumbo == Jumbo::Chain) {
      for (auto &segs : segments)
        for (auto *m : segs) rte_pktmbuf_free_seg(m);
      return;
    }
    for (auto *m : mbufs) rte_pktmbuf_free(m);
  }

  // Recycle: restore packet i as received (untimed).
  void reset(uint32_t i) {
    rte_mbuf *m = mbufs[i];
    m->data_off = RTE_PKTMBUF_HEADROOM;
    m->data_len = static_cast<uint16_t>(std::min<uint32_t>(frame_len(), g_jumbo == Jumbo::Chain ? kSegment : frame_len()));
    m->pkt_len = frame_len();
    m->ol_flags = g_rx_offload ? RTE_MBUF_F_RX_IP_CKSUM_GOOD : 0;
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t *), frames[i].data(), kFrameLen);
    if (g_jumbo == Jumbo::Chain) {  // the chain as the driver built it
      const auto &segs = segments[i];
      uint32_t left = kJumboLen - kSegment;
      for (size_t k = 1; k < segs.size(); k++) {
        segs[k - 1]->next = segs[k];
        segs[k]->data_off = RTE_PKTMBUF_HEADROOM;
        segs[k]->data_len = static_cast<uint16_t>(std::min<uint32_t>(left, kSegment));
        left -= segs[k]->data_len;
      }
      segs.back()->next = nullptr;
      m->nb_segs = static_cast<uint16_t>(segs.size());
    }
  }

  // Cycles per packet of `slices` consecutive runs of packets/slices each,
  // sorted. On a shared machine a neighbour's burst of activity or a host
  // interrupt spoils a few slices; the median ignores them, the mean does not.
  std::vector<double> run_slices(uint64_t packets, unsigned slices) {
    std::vector<double> out;
    const uint64_t per = std::max<uint64_t>(kBurst, packets / slices / kBurst * kBurst);
    for (unsigned i = 0; i < slices; i++) out.push_back(double(run(per)) / double(per));
    std::sort(out.begin(), out.end());
    return out;
  }

  // Cycles spent in process_burst for `packets` packets.
  uint64_t run(uint64_t packets) {
    uint64_t cycles = 0, processed = 0;
    uint32_t next = 0;
    rte_mbuf *burst[kBurst];
    for (uint64_t done = 0; done < packets; done += kBurst) {
      for (uint16_t j = 0; j < kBurst; j++) {
        reset(next);
        burst[j] = mbufs[next];
        next = next + 1 == g_frames ? 0 : next + 1;
      }
      const uint64_t t0 = rte_rdtsc_precise();
      process_burst(ctx, 0, burst, kBurst);
      cycles += rte_rdtsc_precise() - t0;
      processed += kBurst;
      for (auto &q : ctx.out) q.n = 0;  // outputs are the same mbufs: recycled
      rcu_quiescent(ctx.qsbr, ctx.qsbr_thread_id);
    }
    g_packets_processed.fetch_add(processed, std::memory_order_relaxed);
    return cycles;
  }
};

std::vector<uint64_t> parse_list(const char *s) {
  std::vector<uint64_t> out;
  std::string str(s), item;
  for (char c : str + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(std::stoull(item));
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

std::string size_name(uint64_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "m";
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

// One worker's part of a concurrent run: warm up, wait for the others, then
// measure; leaves its median slice. Each is its own RCU reader.
struct ConcurrentRun {
  Worker *w = nullptr;
  uint64_t packets = 0;
  std::atomic<unsigned> *warmed = nullptr;
  unsigned workers = 0;
  double median = 0;
};

int run_concurrent(void *arg) {
  auto &r = *static_cast<ConcurrentRun *>(arg);
  WorkerContext &ctx = r.w->ctx;
  rte_rcu_qsbr_thread_online(ctx.qsbr, ctx.qsbr_thread_id);
  r.w->run(r.packets / 10);
  r.warmed->fetch_add(1, std::memory_order_acq_rel);
  while (r.warmed->load(std::memory_order_acquire) < r.workers) rte_pause();
  const std::vector<double> sl = r.w->run_slices(r.packets, 25);
  r.median = sl[sl.size() / 2];
  rte_rcu_qsbr_thread_offline(ctx.qsbr, ctx.qsbr_thread_id);
  return 0;
}

// Packets per second of the first `n` workers running at once (worker 0 on
// this lcore, the others on the next ones), each at its median slice.
double aggregate_mpps(std::vector<std::unique_ptr<Worker>> &workers, unsigned n, uint64_t packets, double hz) {
  std::atomic<unsigned> warmed{0};
  std::vector<ConcurrentRun> runs(n);
  for (unsigned i = 0; i < n; i++) runs[i] = {workers[i].get(), packets, &warmed, n, 0};
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (unsigned i = 1; i < n; i++, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    // A worker that never starts would leave the others waiting for it.
    if (lcore >= RTE_MAX_LCORE || rte_eal_remote_launch(run_concurrent, &runs[i], lcore) != 0) {
      std::fprintf(stderr, "cannot start worker %u on an lcore of its own\n", i);
      std::exit(1);
    }
  }
  run_concurrent(&runs[0]);
  rte_eal_mp_wait_lcore();
  double mpps = 0;
  for (const auto &r : runs) mpps += hz / r.median / 1e6;
  return mpps;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Scaling with worker cores: one worker alone, then `n` at once, three
// rounds alternating (this machine's speed drifts over minutes; each round's
// ratio compares runs seconds apart).
void measure_scaling(Env &env, RouteTable &table, uint8_t fam, uint64_t routes, uint64_t pct, unsigned n,
                     uint64_t packets, double hz) {
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < n; i++)
    workers.push_back(std::make_unique<Worker>(env, table, fam, static_cast<uint32_t>(routes), static_cast<uint16_t>(i)));
  const std::string name = "ipv" + std::to_string(fam) + "_" + size_name(routes);
  std::vector<double> one, all, ratio;
  rte_rcu_qsbr_thread_offline(env.qsbr, 0);  // worker 0's runs bring it online while they read
  for (int round = 1; round <= 3; round++) {
    one.push_back(aggregate_mpps(workers, 1, packets, hz));
    all.push_back(aggregate_mpps(workers, n, packets, hz));
    ratio.push_back(all.back() / one.back());
    std::printf("# IPv%d %s %llu%% moved, round %d: 1 worker %.2f Mpps, %u workers %.2f Mpps (%.2fx)\n", fam,
                size_name(routes).c_str(), (unsigned long long)pct, round, one.back(), n, all.back(), ratio.back());
  }
  rte_rcu_qsbr_thread_online(env.qsbr, 0);
  std::printf("RESULT fastpath_%s_%llupct_1w_mpps %.2f Mpps\n", name.c_str(), (unsigned long long)pct, median_of(one));
  std::printf("RESULT fastpath_%s_%llupct_%uw_mpps %.2f Mpps\n", name.c_str(), (unsigned long long)pct, n, median_of(all));
  std::printf("RESULT scaling_%s_%uw %.2f x\n", name.c_str(), n, median_of(ratio));
}

// The golden rows timed: bursts of kBurst copies of one row's frame through
// process_burst on the test bed. Each burst's mbufs are filled untimed and
// what leaves is freed untimed (as a port's transmit would free it); what is
// dropped is freed inside the pipeline, timed, as part of a drop's cost.
// Every packet must count the row's counter, or the figure would time
// something else: exit 1.
int run_golden(uint64_t packets, double hz) {
  testbed::Fixture tb("bench");
  tb.ctx().tsc_hz = rte_get_tsc_hz();
  constexpr unsigned kSlices = 25;
  const uint64_t per = std::max<uint64_t>(kBurst, packets / kSlices / kBurst * kBurst);
  for (const testbed::GoldenPacket &g : testbed::golden_packets()) {
    const std::vector<uint8_t> frame = testbed::unhex(g.input);
    const uint64_t counted0 = tb.ctx().counters.get(g.counted);
    uint64_t sent = 0;
    auto slice = [&]() {
      uint64_t cycles = 0;
      rte_mbuf *burst[kBurst];
      for (uint64_t done = 0; done < per; done += kBurst) {
        for (auto &m : burst) {
          m = tb.mbuf(frame.data(), frame.size());
          m->ol_flags = g_rx_offload ? RTE_MBUF_F_RX_IP_CKSUM_GOOD : 0;
        }
        const uint64_t t0 = rte_rdtsc_precise();
        process_burst(tb.ctx(), g.in_port, burst, kBurst);
        cycles += rte_rdtsc_precise() - t0;
        tb.drain_outputs();
        sent += kBurst;
      }
      return double(cycles) / double(per);
    };
    slice();  // warm caches and branch predictors
    std::vector<double> sl;
    for (unsigned i = 0; i < kSlices; i++) sl.push_back(slice());
    std::sort(sl.begin(), sl.end());
    g_packets_processed.fetch_add(sent, std::memory_order_relaxed);
    const uint64_t counted = tb.ctx().counters.get(g.counted) - counted0;
    if (counted != sent) {
      std::fprintf(stderr, "golden %s: %llu of %llu packets counted %s\n", g.name, (unsigned long long)counted,
                   (unsigned long long)sent, kCounterInfo[static_cast<size_t>(g.counted)].name);
      return 1;
    }
    const double cpp = sl[sl.size() / 2];
    std::printf("# golden %s (%s): median %.1f, best %.1f, worst %.1f cycles/pkt\n", g.name, g.description, cpp,
                sl.front(), sl.back());
    std::printf("RESULT golden_%s%s %.1f cycles/pkt\n", g.name, g_rx_offload ? "_rxoffload" : "", cpp);
    std::printf("RESULT golden_%s%s_mpps %.2f Mpps\n", g.name, g_rx_offload ? "_rxoffload" : "", hz / cpp / 1e6);
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  bool quick = false;
  std::vector<uint64_t> sizes = {1000, 100000, 1000000, 4000000}, moved = {0, 50, 100};
  std::vector<int> families = {4, 6};
  uint64_t packets = 20'000'000;
  unsigned workers = 1;
  bool golden = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--routes" && i + 1 < argc) sizes = parse_list(argv[++i]);
    else if (a == "--moved" && i + 1 < argc) moved = parse_list(argv[++i]);
    else if (a == "--family" && i + 1 < argc) {
      std::string f = argv[++i];
      families = f == "4" ? std::vector<int>{4} : f == "6" ? std::vector<int>{6} : std::vector<int>{4, 6};
    } else if (a == "--packets" && i + 1 < argc) packets = std::stoull(argv[++i]);
    else if (a == "--rx-cksum-offload") g_rx_offload = true;
    else if (a == "--frames" && i + 1 < argc) g_frames = static_cast<uint32_t>(std::stoul(argv[++i]));
    else if (a == "--workers" && i + 1 < argc) workers = static_cast<unsigned>(std::stoul(argv[++i]));
    else if (a == "--golden") golden = true;
    else if (a == "--jumbo" && i + 1 < argc && (std::string(argv[i + 1]) == "one" || std::string(argv[i + 1]) == "chain"))
      g_jumbo = std::string(argv[++i]) == "one" ? Jumbo::One : Jumbo::Chain;
    else if (a == "--control" && i + 1 < argc) g_control_pct = static_cast<uint32_t>(std::min(50ul, std::stoul(argv[++i])));
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--routes N,..] [--moved PCT,..] [--family 4|6|both] [--packets N] [--rx-cksum-offload] [--workers N] [--frames N] [--golden] [--control PCT] [--jumbo one|chain]\n", argv[0]);
      return 2;
    }
  }
  if (quick) {
    packets = 2'000'000;
    if (sizes.size() == 4) sizes = {1000, 1000000};
    if (moved.size() == 3) moved = {100};
  }
  if (workers > 1 && moved.size() == 3) moved = {100};
  if (g_jumbo == Jumbo::Chain && g_control_pct) {
    // An answered ARP request is cut to 42 bytes, which frees segments the
    // benchmark recycles.
    std::fprintf(stderr, "--jumbo chain and --control do not go together\n");
    return 2;
  }
  if (workers < 1 || workers > 64 || g_frames < kBurst || g_frames > 1u << 20) {
    std::fprintf(stderr, "--workers: 1 to 64; --frames: %u to %u\n", unsigned{kBurst}, 1u << 20);
    return 2;
  }
  // Exit code 77 (a skipped test for meson): more workers than cores.
  if (workers > std::thread::hardware_concurrency()) {
    std::fprintf(stderr, "--workers %u: this machine has %u cores\n", workers, std::thread::hardware_concurrency());
    return 77;
  }
  const std::string prefix = "--file-prefix=nvbench" + std::to_string(getpid());
  std::vector<std::string> eal = {"bench", "-m", "4096", "--no-pci", "-l", "0-" + std::to_string(workers - 1),
                                  "--log-level", "*:error", prefix, "--no-shconf"};
  // NVBENCH_HUGE_DIR: a hugetlbfs mount to use (scripts/bench.sh --huge);
  // without it, 4 KiB pages (--no-huge) like the rest of the test suite.
  if (const char *huge = std::getenv("NVBENCH_HUGE_DIR")) eal.push_back(std::string("--huge-dir=") + huge);
  else eal.push_back("--no-huge");
  std::vector<char *> av;
  for (auto &s : eal) av.push_back(s.data());
  if (rte_eal_init(static_cast<int>(av.size()), av.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  Env env;
  if (rte_lcore_count() < workers) {
    std::fprintf(stderr, "--workers %u: only %u lcores\n", workers, rte_lcore_count());
    return 2;
  }
  const unsigned segs_per_frame = g_jumbo == Jumbo::Chain ? (kJumboLen + kSegment - 1) / kSegment : 1;
  env.pool = rte_pktmbuf_pool_create("b_pool", g_frames * (workers + 1) * segs_per_frame, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  if (g_jumbo == Jumbo::One)
    env.large = rte_pktmbuf_pool_create("b_large", g_frames * (workers + 1), 256, 0, RTE_PKTMBUF_HEADROOM + kJumboLen, 0);
  if (!env.pool || (g_jumbo == Jumbo::One && !env.large)) {
    std::fprintf(stderr, "cannot create the mbuf pools (fewer --frames)\n");
    return 1;
  }
  env.direct = rte_pktmbuf_pool_create("b_dir", 1023, 0, 0, RTE_PKTMBUF_HEADROOM + 128, 0);
  env.indirect = rte_pktmbuf_pool_create("b_ind", 1023, 0, 0, 0, 0);
  env.qsbr = static_cast<rte_rcu_qsbr *>(rte_zmalloc("b_q", rte_rcu_qsbr_get_memsize(workers + 1), 64));
  rte_rcu_qsbr_init(env.qsbr, workers + 1);
  for (unsigned i = 0; i < workers; i++) rte_rcu_qsbr_thread_register(env.qsbr, i);
  rte_rcu_qsbr_thread_online(env.qsbr, 0);
  const double hz = double(rte_get_tsc_hz());
  std::printf("# TSC %.0f MHz, %llu packets per measurement, %u distinct 64-byte frames per worker\n", hz / 1e6,
              (unsigned long long)packets, g_frames);

  if (golden) {
    const int rc = run_golden(packets, hz);
    std::printf("# process_burst packets: %llu\n", (unsigned long long)g_packets_processed.load());
    rte_eal_cleanup();
    return rc;
  }
  for (uint64_t n : sizes) {
    for (int fam : families) {
      RouteTableConfig rc;
      rc.name = "b_rt" + std::to_string(n) + "_" + std::to_string(fam);
      rc.capacity = static_cast<uint32_t>(std::max<uint64_t>(n + n / 8, 1024));
      rc.max_nves = 64;
      rc.workers = workers;
      RouteTable table(rc, env.qsbr);
      table.set_fabric(fabric());
      const uint64_t t0 = rte_rdtsc();
      for (uint64_t pct : moved) {
        // (Re)fill with this mix: upserts over the same keys. The measuring
        // thread is an RCU reader: offline while it writes, or the retired
        // entries would wait for it forever.
        rte_rcu_qsbr_thread_offline(env.qsbr, 0);
        fill_routes(table, static_cast<uint8_t>(fam), static_cast<uint32_t>(n), static_cast<uint32_t>(pct));
        if (pct == moved.front())
          std::printf("# %s IPv%d routes installed in %.2f s (%.0f routes/s batched), %.1f bytes/route\n",
                      size_name(n).c_str(), fam, double(rte_rdtsc() - t0) / hz,
                      double(n) / (double(rte_rdtsc() - t0) / hz), double(table.memory_bytes()) / double(n));
        rte_rcu_qsbr_thread_online(env.qsbr, 0);
        if (workers > 1) {
          measure_scaling(env, table, static_cast<uint8_t>(fam), n, pct, workers, packets, hz);
          continue;
        }
        Worker w(env, table, static_cast<uint8_t>(fam), static_cast<uint32_t>(n));
        w.run(packets / 10);  // warm caches and branch predictors
        const std::vector<double> sl = w.run_slices(packets, 25);
        const double cpp = sl[sl.size() / 2];
        double mean = 0;
        for (double v : sl) mean += v / double(sl.size());
        std::printf("# IPv%d %s %llu%% moved: median %.1f, mean %.1f, best %.1f, worst %.1f cycles/pkt over %zu slices\n",
                    fam, size_name(n).c_str(), (unsigned long long)pct, cpp, mean, sl.front(), sl.back(), sl.size());
        const std::string suffix_text = std::string(g_rx_offload ? "_rxoffload" : "") +
                                        (g_jumbo == Jumbo::One ? "_jumbo_one" : g_jumbo == Jumbo::Chain ? "_jumbo_chain" : "") +
                                        (g_control_pct ? "_ctl" + std::to_string(g_control_pct) + "pct" : "");
        const char *suffix = suffix_text.c_str();
        std::printf("RESULT fastpath_ipv%d_%s_%llupct%s %.1f cycles/pkt\n", fam, size_name(n).c_str(),
                    (unsigned long long)pct, suffix, cpp);
        std::printf("RESULT fastpath_ipv%d_%s_%llupct%s_mpps %.2f Mpps\n", fam, size_name(n).c_str(),
                    (unsigned long long)pct, suffix, hz / cpp / 1e6);
        const uint64_t drops = w.ctx.counters.get(Counter::drop_no_headroom) + w.ctx.counters.get(Counter::drop_neighbour_unresolved);
        if (drops) std::printf("# WARNING: %llu drops\n", (unsigned long long)drops);
        if (g_control_pct)
          std::printf("# control traffic answered by the worker: %llu ARP replies, %llu echo replies\n",
                      (unsigned long long)w.ctx.counters.get(Counter::arp_replied),
                      (unsigned long long)w.ctx.counters.get(Counter::echo_replied));
      }
      std::printf("RESULT memory_per_route_%s %.1f bytes\n", size_name(n).c_str(),
                  double(table.memory_bytes()) / double(n));
    }
  }
  std::printf("# process_burst packets: %llu\n", (unsigned long long)g_packets_processed.load());
  rte_eal_cleanup();
  return 0;
}
