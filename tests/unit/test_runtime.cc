// NvedRuntime with real EAL worker lcores (three lcores on one CPU) and two
// net_null ports: start-up and shutdown paths that the other unit tests,
// which run on one lcore, cannot reach.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/nved/config.h"
#include "control/nved/runtime.h"

using namespace nvmove;

namespace {

const char *kConfig = R"(
ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
nve: {ipv4: 192.0.2.1}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
route_table: {capacity: 1024}
workers: {mbufs: 2047, idle_sleep_us: 100}
)";

std::atomic<bool> g_release{false};
int hold_lcore(void *) {
  while (!g_release.load(std::memory_order_acquire)) rte_pause();
  return 0;
}

}  // namespace

// Issue 12: start_workers threw before it set running_, so stop_workers()
// returned at once and the destructor freed worker contexts under the
// workers already launched. Now a failed launch stops those first.
TEST(NvedRuntime, AFailedWorkerLaunchStopsTheWorkersAlreadyRunning) {
  const NvedConfig cfg = load_config_text(kConfig);
  NvedRuntime rt(cfg);
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

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=nvrt" + std::to_string(getpid());
  std::vector<std::string> args = {"runtime", "--no-huge", "-m", "256", "--no-pci", "--lcores", "0,1@0,2@0",
                                   "--vdev", "net_null0", "--vdev", "net_null1", "--log-level", "lib.eal:warning",
                                   prefix, "--no-shconf"};
  std::vector<char *> av;
  for (auto &a : args) av.push_back(a.data());
  if (rte_eal_init(static_cast<int>(av.size()), av.data()) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 2;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
