// For GoogleTest binaries that need DPDK: EAL started with the caller's
// arguments, every test run, EAL stopped. Each binary passes its own
// --file-prefix so parallel runs never collide.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace nvmove::testing {

// args[0] is the program name EAL logs; 2 when EAL cannot start.
// before_cleanup releases what the tests left holding DPDK resources (a
// runtime with ports and workers) while EAL still runs.
inline int run_all_tests_in_eal(std::vector<std::string> args, const std::function<void()> &before_cleanup = {}) {
  std::vector<char *> av;
  for (auto &a : args) av.push_back(a.data());
  if (rte_eal_init(static_cast<int>(av.size()), av.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 2;
  }
  const int rc = RUN_ALL_TESTS();
  if (before_cleanup) before_cleanup();
  rte_eal_cleanup();
  return rc;
}

}  // namespace nvmove::testing
