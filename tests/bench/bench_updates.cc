// Route updates and convergence, with a worker forwarding on the other core:
//  - install/change rate, batched (1024 per publication) and one by one;
//  - the forwarding worker's rate during the updates against before;
//  - RCU grace period (rte_rcu_qsbr_start -> every reader passed) p50/p99;
//  - convergence: a move notification from nvad handed to the real NVE agent
//    -> the worker's lookup returns the tunnel toward the new NVE, p50/p99.
// Prints `RESULT name value unit` lines.   nve_bench_updates [--quick]
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "control/agent/nve_agent.h"
#include "control/protocol/codec.h"
#include "dataplane/rcu.h"
#include "dataplane/route_table.h"

using namespace nvmove;
using namespace nvmove::dp;

namespace {

IpAddress v4(uint32_t a) {
  IpAddress r;
  r.family = 4;
  r.bytes = {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
  return r;
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * double(v.size())))];
}

struct NullNet : agent::AgentTransport {
  void send(const IpAddress &, uint16_t, std::span<const uint8_t>) override {}
};

// The reader: bulk lookups of random keys like a worker, reporting a
// quiescent state per pass, counting lookups; optionally watching one key.
struct Reader {
  RouteTableView view;
  rte_rcu_qsbr *q;
  uint32_t n_keys;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0};
  std::atomic<const TunnelTemplate *> watch_expect{nullptr};
  std::atomic<uint64_t> watch_seen_tsc{0};
  RouteKey watch_key{};

  void run() {
    rte_rcu_qsbr_thread_register(q, 1);
    rte_rcu_qsbr_thread_online(q, 1);
    RouteKey keys[32];
    uint32_t hashes[32];
    const RouteEntry *found[32];
    uint32_t x = 12345;
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 32; i++) {
        x = x * 1664525 + 1013904223;
        const IpAddress a = v4(0x0a000000 + (x >> 8) % n_keys);
        make_key_v4(keys[i], 0, a.bytes.data());
        hashes[i] = route_key_hash(keys[i]);
      }
      route_lookup_bulk(view.hash, keys, hashes, 32, found);
      n += 32;
      if (const TunnelTemplate *want = watch_expect.load(std::memory_order_acquire)) {
        if (const RouteEntry *e = route_lookup_one(view.hash, watch_key, route_key_hash(watch_key))) {
          if (e->kind == kRouteTunnel && view.nves[e->nve_idx].load(std::memory_order_acquire) == want) {
            watch_seen_tsc.store(rte_rdtsc(), std::memory_order_release);
            watch_expect.store(nullptr, std::memory_order_relaxed);
          }
        }
      }
      if ((n & 1023) == 0) lookups.store(n, std::memory_order_relaxed);
      rcu_quiescent(q, 1);
    }
    rte_rcu_qsbr_thread_offline(q, 1);
    rte_rcu_qsbr_thread_unregister(q, 1);
  }
};

}  // namespace

int main(int argc, char **argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const uint32_t n_routes = quick ? 100000 : 1000000;
  const std::string prefix = "--file-prefix=nvbu" + std::to_string(getpid());
  // Two lcores: the reader must run on the other core, as a worker would.
  std::vector<std::string> eal = {"bench", "-m", "2048", "--no-pci", "-l", "0,1",
                                  "--log-level", "*:error", prefix, "--no-shconf"};
  // NVBENCH_HUGE_DIR: a hugetlbfs mount to use (scripts/bench.sh --huge);
  // without it, 4 KiB pages (--no-huge) like the rest of the test suite.
  if (const char *huge = std::getenv("NVBENCH_HUGE_DIR")) eal.push_back(std::string("--huge-dir=") + huge);
  else eal.push_back("--no-huge");
  std::vector<char *> av;
  for (auto &s : eal) av.push_back(s.data());
  if (rte_eal_init(static_cast<int>(av.size()), av.data()) < 0) return 1;
  spdlog::set_level(spdlog::level::warn);  // no log line per move in the measurement
  const double hz = double(rte_get_tsc_hz());
  auto *q = static_cast<rte_rcu_qsbr *>(rte_zmalloc("bu_q", rte_rcu_qsbr_get_memsize(2), 64));
  rte_rcu_qsbr_init(q, 2);

  {  // everything DPDK-backed is destroyed before rte_eal_cleanup()
  RouteTableConfig rc;
  rc.name = "bu_rt";
  rc.capacity = n_routes + n_routes / 4;
  rc.max_nves = 64;
  RouteTable table(rc, q);
  FabricParams f;
  f.port_mac = {2, 0, 0, 0, 0, 1};
  f.gateway_mac_v4 = MacAddress{2, 0, 0, 0, 0, 0xfe};
  f.own_v4 = v4(0xc0000201);
  table.set_fabric(f);
  auto batch_of = [&](uint32_t first, uint32_t count, uint32_t gen) {
    std::vector<RouteChange> b(count);
    for (uint32_t i = 0; i < count; i++) {
      b[i].route = {0, v4(0x0a000000 + (first + i) % n_routes)};
      b[i].action = TunnelToNve{v4(0xc6336400 + 10 + (first + i + gen) % 8)};
    }
    return b;
  };
  for (uint32_t i = 0; i < n_routes; i += 4096) table.apply(batch_of(i, std::min(4096u, n_routes - i), 0));

  Reader reader;
  reader.view = table.view();
  reader.q = q;
  reader.n_keys = n_routes;
  rte_eal_remote_launch([](void *r) { static_cast<Reader *>(r)->run(); return 0; }, &reader, rte_get_next_lcore(-1, 1, 0));
  // The reader's rate with the writer idle. It spins on rte_pause() without
  // touching memory: sleeping would free its vCPU for other tenants of this
  // shared host (the reader then runs slower, the dip turns negative), and
  // spinning on reclaim() would poll the reader's RCU counter line.
  auto idle_rate = [&](double secs) {
    const uint64_t a = reader.lookups.load(), t0 = rte_rdtsc();
    while (double(rte_rdtsc() - t0) / hz < secs) rte_pause();
    const double r = double(reader.lookups.load() - a) / (double(rte_rdtsc() - t0) / hz);
    table.reclaim();
    return r;
  };
  // Quiet and update phases alternate, so each dip compares two neighbouring
  // moments of this shared machine; the dip reported is their median.
  const double secs = quick ? 0.5 : 2.0;
  const int rounds = quick ? 2 : 6;
  uint64_t changed = 0;
  double el = 0;
  std::vector<double> dips;
  uint32_t gen = 1;
  for (int r = 0; r < rounds; r++) {
    const double base = idle_rate(secs / rounds);
    const uint64_t lookups0 = reader.lookups.load(), t0 = rte_rdtsc();
    uint64_t n = 0;
    for (; double(rte_rdtsc() - t0) / hz < secs / rounds; gen++) {
      table.apply(batch_of((gen * 1024) % n_routes, 1024, gen));
      n += 1024;
    }
    const double e = double(rte_rdtsc() - t0) / hz;
    const double during = double(reader.lookups.load() - lookups0) / e;
    dips.push_back(100.0 * (1.0 - during / base));
    changed += n;
    el += e;
  }
  std::printf("# reader dips per round (%%):");
  for (double d : dips) std::printf(" %.1f", d);
  std::printf("\n");
  std::printf("RESULT route_updates_batched %.0f routes/s\n", double(changed) / el);
  std::printf("RESULT reader_rate_dip_batched %.1f %%\n", pct(dips, 0.5));

  // One change per publication.
  changed = 0;
  const uint64_t t0 = rte_rdtsc();
  while (double(rte_rdtsc() - t0) / hz < secs / 2) {
    table.apply(batch_of(static_cast<uint32_t>(changed % n_routes), 1, static_cast<uint32_t>(changed)));
    changed++;
  }
  el = double(rte_rdtsc() - t0) / hz;
  std::printf("RESULT route_updates_single %.0f routes/s\n", double(changed) / el);

  // Grace periods.
  std::vector<double> gp;
  for (int i = 0; i < (quick ? 200 : 2000); i++) {
    const uint64_t s = rte_rdtsc();
    const uint64_t token = rte_rcu_qsbr_start(q);
    while (!rte_rcu_qsbr_check(q, token, false)) rte_pause();
    gp.push_back(double(rte_rdtsc() - s) / hz * 1e6);
  }
  std::printf("RESULT rcu_grace_period_p50 %.2f us\nRESULT rcu_grace_period_p99 %.2f us\n", pct(gp, 0.5), pct(gp, 0.99));

  // Convergence through the real agent and codec.
  const IpAddress nvad = v4(0x0affff01);
  proto::KeyTable keys;
  proto::AuthKey key{7, std::vector<uint8_t>(32, 0x5a)};
  keys.add(nvad, key);
  agent::AgentConfig ac;
  ac.nvads = {nvad};
  ac.self.ipv4 = f.own_v4;
  NullNet net;
  SystemClock clock;
  agent::NveAgent ag(ac, table, net, keys, clock);
  std::vector<double> conv;
  const IpAddress vm = v4(0x0a000005);
  make_key_v4(reader.watch_key, 0, vm.bytes.data());
  for (int i = 0; i < (quick ? 200 : 2000); i++) {
    proto::Message m;
    m.type = proto::MessageType::RegistrationRequest;
    m.notification = true;
    m.mobility = proto::MobilityMode::Hot;
    m.sequence = static_cast<uint16_t>(i + 1);
    m.lifetime = 75;
    m.vm_id = proto::VmId{'v', 'm'};
    m.vm_mac = MacAddress{2, 0, 0, 0, 1, 1};
    m.virtual_network = 0;
    m.vm_addresses = {vm};
    const IpAddress nve = v4(0xc6336400 + 10 + (i % 2 ? 1 : 2));
    m.serving_nve.ipv4 = nve;
    m.timestamp_ns = wall_clock_ns();
    auto wire = proto::encode(m, key);
    if (!wire) {
      std::fprintf(stderr, "encode: %s\n", wire.error().describe().c_str());
      break;
    }
    // The template the worker must end up using: the NVE's slot, once known.
    table.apply(std::vector<RouteChange>{{RouteChange::Op::Upsert, {0, v4(0x0b000000 + i % 2)}, TunnelToNve{nve}}});
    RouteKey k;
    make_key_v4(k, 0, v4(0x0b000000 + i % 2).bytes.data());
    const RouteEntry *d = route_lookup_one(reader.view.hash, k, route_key_hash(k));
    const TunnelTemplate *want = reader.view.nves[d->nve_idx].load();
    reader.watch_seen_tsc.store(0);
    reader.watch_expect.store(want, std::memory_order_release);
    const uint64_t s = rte_rdtsc();
    ag.on_datagram(nvad, 61434, wire.value());
    uint64_t seen;
    while ((seen = reader.watch_seen_tsc.load(std::memory_order_acquire)) == 0) {
      if (double(rte_rdtsc() - s) / hz > 1.0) break;
      rte_pause();
    }
    if (seen) conv.push_back(double(seen - s) / hz * 1e6);
    table.reclaim();
  }
  std::printf("RESULT convergence_p50 %.2f us\nRESULT convergence_p99 %.2f us\n", pct(conv, 0.5), pct(conv, 0.99));
  std::printf("# convergence samples %zu (notification decoded, authenticated, replay-checked, route published,\n"
              "# seen by the reader's lookup)\n", conv.size());

  reader.stop = true;
  rte_eal_mp_wait_lcore();
  }
  std::fflush(stdout);
  rte_eal_cleanup();
  return 0;
}
