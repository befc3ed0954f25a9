// nvxdp's show port xstats reads the kernel driver's statistics; what it
// says when there are none (the veth driver's own are checked end to end
// in e2e_xdp_veth).
#include <gtest/gtest.h>

#include <variant>

#include "drivers/xdp/ethtool_stats.h"

using nvmove::drivers::EthtoolStats;
using nvmove::drivers::ethtool_stats;

namespace {

std::string why(const std::variant<EthtoolStats, std::string> &r) {
  const auto *s = std::get_if<std::string>(&r);
  return s ? *s : std::string("(statistics)");
}

TEST(EthtoolStats, SaysWhyThereAreNone) {
  EXPECT_EQ(why(ethtool_stats("nvnosuch0")), "nvnosuch0: no such interface");
  // The loopback driver has no ethtool statistics.
  EXPECT_EQ(why(ethtool_stats("lo")), "lo: its driver has no statistics (ethtool -S)");
  EXPECT_EQ(why(ethtool_stats("")), ": not an interface name");
  EXPECT_EQ(why(ethtool_stats("a-name-longer-than-ifnamsiz")), "a-name-longer-than-ifnamsiz: not an interface name");
}

}  // namespace
