// NvedRuntime with real EAL worker lcores (three lcores on one CPU) and two
// net_null ports: start-up and shutdown paths that the other unit tests,
// which run on one lcore, cannot reach.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/ctl/command_table.h"
#include "control/ctl/ctl_socket.h"
#include "control/nved/commands.h"
#include "control/nved/config.h"
#include "control/nved/control_loop.h"
#include "control/nved/runtime.h"
#include "dataplane/counters.h"
#include "tests/support/eal_tests.h"

using namespace nvmove;

namespace {

// Port 0 (the fabric) replays a capture for ever: packets to 32 addresses
// whose routes the control thread keeps changing. Port 1 has none.
const char *kConfig = R"(
ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
nve: {ipv4: 192.0.2.1}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
default_action: forward
route_table: {capacity: 1024}
workers: {mbufs: 4095, idle_sleep_us: 0}
)";

constexpr int kAddresses = 32;
std::string g_fabric_pcap, g_empty_pcap;

uint16_t csum(const uint8_t *p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i]) << 8 | p[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

// A pcap of UDP packets from a fabric host to 10.0.0.(9 + i), sent to port
// 0's MAC (net_pcap0: 02:70:63:61:70:00).
void write_pcaps(const std::string &dir) {
  g_fabric_pcap = dir + "/fabric.pcap";
  g_empty_pcap = dir + "/empty.pcap";
  auto header = [](std::ofstream &f) {
    const uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    f.write(reinterpret_cast<const char *>(h), sizeof h);
  };
  std::ofstream e(g_empty_pcap, std::ios::binary);
  header(e);
  std::ofstream f(g_fabric_pcap, std::ios::binary);
  header(f);
  for (int i = 0; i < kAddresses; i++) {
    uint8_t fr[14 + 20 + 8 + 18] = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x08, 0x00};
    uint8_t *ip = fr + 14;
    const uint8_t iph[20] = {0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 1, 0, 7, 10, 0, 0, uint8_t(9 + i)};
    std::memcpy(ip, iph, 20);
    const uint16_t c = csum(ip, 20);
    ip[10] = uint8_t(c >> 8);
    ip[11] = uint8_t(c);
    const uint8_t udp[8] = {0x9c, 0x40, 0x9c, 0x41, 0, 26, 0, 0};
    std::memcpy(ip + 20, udp, 8);
    const uint32_t rec[4] = {0, 0, sizeof fr, sizeof fr};
    f.write(reinterpret_cast<const char *>(rec), sizeof rec);
    f.write(reinterpret_cast<const char *>(fr), sizeof fr);
  }
}

std::atomic<bool> g_release{false};
int hold_lcore(void *) {
  while (!g_release.load(std::memory_order_acquire)) rte_pause();
  return 0;
}

// One runtime for the whole binary: closing its ports on destruction takes
// the EAL's virtual devices away, so a second runtime would find none.
NvedConfig g_cfg;
std::unique_ptr<NvedRuntime> g_rt;
NvedRuntime &runtime() {
  if (!g_rt) {
    g_cfg = load_config_text(kConfig);
    g_rt = std::make_unique<NvedRuntime>(g_cfg);
  }
  return *g_rt;
}

}  // namespace

// Issue 12: start_workers threw before it set running_, so stop_workers()
// returned at once and the destructor freed worker contexts under the
// workers already launched. Now a failed launch stops those first.
TEST(NvedRuntime, AFailedWorkerLaunchStopsTheWorkersAlreadyRunning) {
  NvedRuntime &rt = runtime();
  ASSERT_EQ(rt.worker_count(), 2u);
  const unsigned first = rt.worker_lcore(0), second = rt.worker_lcore(1);
  // Something else occupies the second worker's lcore: its launch fails.
  g_release.store(false);
  ASSERT_EQ(rte_eal_remote_launch(hold_lcore, nullptr, second), 0);
  EXPECT_THROW(rt.start_workers(), std::runtime_error);
  EXPECT_EQ(rte_eal_get_lcore_state(first), WAIT) << "worker 0 still runs after start_workers failed";
  g_release.store(true, std::memory_order_release);
  rte_eal_wait_lcore(second);
  // And the runtime can start and stop for real afterwards.
  rt.start_workers();
  EXPECT_EQ(rte_eal_get_lcore_state(first), RUNNING);
  rt.stop_workers();
  EXPECT_EQ(rte_eal_get_lcore_state(first), WAIT);
}

// The control thread and two workers together, as in nved: the control
// loop publishes route changes (local, tunnel, removed) and reclaims them
// through RCU while the workers look the same addresses up at full speed,
// and a client thread uses the control socket meanwhile (reads and route
// changes through nved's own command handlers). Run under ThreadSanitizer
// by scripts/test.sh; here it also checks that all three really overlapped.
TEST(NvedRuntime, ControlThreadWorkersAndControlClientsTogether) {
  NvedRuntime &rt = runtime();
  const NvedConfig &cfg = g_cfg;
  std::atomic<bool> stop{false};
  ControlLoop loop(rt, cfg, stop);
  const std::string sock = "/tmp/nvrt_ctl_" + std::to_string(getpid()) + ".sock";
  ctl::CtlServer server(sock, ctl::nved_commands());
  NvedCommands commands(rt, cfg, loop, kConfig);
  commands.register_all(server);
  server.open();
  loop.set_ctl_server(&server);
  rt.start_workers();

  std::atomic<uint64_t> answers{0}, refusals{0};
  std::thread client([&] {
    const char *requests[] = {"show counters", "show routes", "route add vn 0 10.0.0.200 tunnel 198.51.100.77",
                              "route del vn 0 10.0.0.200", "show route-table", "show workers"};
    for (uint64_t n = 0; !stop.load(std::memory_order_acquire); n++) {
      std::string why;
      auto reply = ctl::call(sock, {{"command", requests[n % 6]}}, 2000, why);
      if (reply && reply->value("ok", false)) answers++;
      else if (!stop.load(std::memory_order_acquire)) refusals++;  // the last one may meet a stopped loop
    }
  });

  uint64_t pass = 0, changes = 0;
  const uint64_t rx_at_start = rt.total(dp::Counter::rx_packets);
  loop.add_poller([&] {
    std::vector<RouteChange> batch;
    for (int i = 0; i < kAddresses; i++) {
      RouteChange c;
      c.route = {0, *IpAddress::parse("10.0.0." + std::to_string(9 + i))};
      switch ((i + pass) % 3) {
        case 0: c.op = RouteChange::Op::Remove; break;
        case 1: c.action = DeliverLocal{1, MacAddress{2, 0, 0, 0, 1, uint8_t(i)}, 0}; break;
        default: c.action = TunnelToNve{*IpAddress::parse("198.51.100." + std::to_string(1 + (i + pass) % 8))};
      }
      batch.push_back(c);
    }
    changes += rt.routes().apply(batch).applied;
    if (++pass >= 400 && answers.load() >= 20) stop.store(true, std::memory_order_release);
  });
  loop.run(ControlLoopOptions{});
  client.join();
  rt.stop_workers();

  const uint64_t rx = rt.total(dp::Counter::rx_packets) - rx_at_start;
  std::printf("together: %llu passes, %llu route changes, %llu packets, %llu control answers\n",
              (unsigned long long)pass, (unsigned long long)changes, (unsigned long long)rx,
              (unsigned long long)answers.load());
  EXPECT_GT(rx, 10000u) << "the workers hardly ran while the routes changed";
  EXPECT_GT(rt.total(dp::Counter::encap_ipv4_in_ipv4), 0u);
  EXPECT_GT(rt.total(dp::Counter::delivered_local), 0u);
  EXPECT_GT(rt.total(dp::Counter::forwarded_default), 0u);
  EXPECT_GE(answers.load(), 20u);
  EXPECT_EQ(refusals.load(), 0u);
}

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=nvrt" + std::to_string(getpid());
  char dir[] = "/tmp/nvrt_XXXXXX";
  if (!mkdtemp(dir)) return 2;
  write_pcaps(dir);
  // Three lcores on whatever CPUs there are: the control thread and two workers.
  std::vector<std::string> args = {"runtime", "--no-huge", "-m", "512", "--no-pci", "--lcores", "0,1@0,2@0",
                                   // Two queues each: one TX queue per worker.
                                   "--vdev", "net_pcap0,rx_pcap=" + g_fabric_pcap + ",rx_pcap=" + g_fabric_pcap +
                                                 ",infinite_rx=1",
                                   "--vdev", "net_pcap1,rx_pcap=" + g_empty_pcap + ",rx_pcap=" + g_empty_pcap,
                                   "--log-level", "lib.eal:warning",
                                   prefix, "--no-shconf"};
  const int rc = nvmove::testing::run_all_tests_in_eal(std::move(args), [] { g_rt.reset(); });
  std::remove(g_fabric_pcap.c_str());
  std::remove(g_empty_pcap.c_str());
  rmdir(dir);
  return rc;
}
