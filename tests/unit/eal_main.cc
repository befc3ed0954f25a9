// GoogleTest main that starts a small DPDK environment first: no hugepages,
// no PCI, a file prefix of its own so parallel runs never collide.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <string>
#include <vector>

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=nvunit" + std::to_string(getpid());
  std::vector<std::string> args = {"unit", "--no-huge", "-m", "512", "--no-pci", "-l", "0",
                                   "--log-level", "lib.eal:warning", prefix, "--no-shconf"};
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
