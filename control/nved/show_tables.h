// Answers nved and nvxdp give in the same form, whatever their fast path:
// the rows of show neighbours, one traced packet of show trace, and a
// port's extended statistics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/net_types.h"
#include "control/ctl/table.h"

namespace nvmove {

// show neighbours: its table, and one row (`source` says where the MAC
// came from: "static", "arp/nd", "kernel").
ctl::Table neighbour_table();
void add_neighbour(ctl::Table &t, const IpAddress &address, const char *role, const std::optional<MacAddress> &mac,
                   const char *source);

// show trace: one packet's row in `t` (whose first column is `unit`'s id:
// a worker, a CPU) and its block of text, VPP style. `out`: "-" when
// nothing left.
struct TracedPacket {
  const char *unit;  // "worker", "cpu"
  uint64_t unit_id, seq;
  uint32_t port, length;
  std::string in, counters, out;
  bool dropped;
  double seconds_ago;
};
void add_traced_packet(ctl::Table &t, std::string &text, const TracedPacket &p);

// show port xstats: (name, value) in the driver's names and order, dots
// and all (the PMD's in nved, the kernel driver's in nvxdp).
ctl::Record xstats_record(const std::vector<std::pair<std::string, uint64_t>> &stats);

}  // namespace nvmove
