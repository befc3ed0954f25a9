// A kernel interface's own statistics (what `ethtool -S` prints), for
// nvxdp's show port xstats: nved's answer is the PMD's extended
// statistics; in XDP mode the kernel driver has them (veth: the XDP
// packets, redirects, TX and drops of each queue; a NIC: its hardware
// counters), read with the SIOCETHTOOL ioctl.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nvmove::drivers {

using EthtoolStats = std::vector<std::pair<std::string, uint64_t>>;

// (name, value) in the driver's order, or why there are none (no such
// interface, a driver without statistics).
std::variant<EthtoolStats, std::string> ethtool_stats(const std::string &interface);

}  // namespace nvmove::drivers
