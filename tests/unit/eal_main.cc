// GoogleTest main that starts a small DPDK environment first: no hugepages,
// no PCI, a file prefix of its own so parallel runs never collide.
#include <unistd.h>

#include "tests/support/eal_tests.h"

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return nvmove::testing::run_all_tests_in_eal({"unit", "--no-huge", "-m", "512", "--no-pci", "-l", "0", "--log-level",
                                                "lib.eal:warning", "--file-prefix=nvunit" + std::to_string(getpid()),
                                                "--no-shconf"});
}
