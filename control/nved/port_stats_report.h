// `show port stats`: testpmd's "NIC statistics" block per port, which
// operators' scripts parse, with the throughput since the previous show.
// nved (ethdev counters) and nvxdp (the kernel interface's) alike.
#pragma once

#include <cstdint>
#include <map>

#include "control/ctl/ctl_socket.h"
#include "drivers/port_stats.h"

namespace nvmove {

class PortStatsReport {
 public:
  // Adds port `port`'s block to `reply` (text, and a JSON row) from its
  // counters `st` read at `now_s` (seconds on a monotonic clock).
  void add(ctl::Reply &reply, uint16_t port, const drivers::PortCounters &st, double now_s);
  // clear counters: the next show starts a new interval.
  void forget() { last_.clear(); }

 private:
  struct Snapshot {
    uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0;
    double at_s = 0;
  };
  std::map<uint16_t, Snapshot> last_;
};

}  // namespace nvmove
