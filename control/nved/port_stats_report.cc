#include "control/nved/port_stats_report.h"

#include <iomanip>
#include <sstream>

namespace nvmove {

void PortStatsReport::add(ctl::Reply &r, uint16_t p, const drivers::PortCounters &st, double now_s) {
  if (!r.data.is_array()) r.data = nlohmann::json::array();
  auto found = last_.find(p);
  const double secs = found != last_.end() ? now_s - found->second.at_s : 0.0;
  const Snapshot last = found != last_.end() ? found->second : Snapshot{};
  auto rate = [&](uint64_t cur, uint64_t prev) -> uint64_t {
    return secs > 0 && cur >= prev ? static_cast<uint64_t>(double(cur - prev) / secs) : 0;
  };
  const uint64_t rx_pps = rate(st.rx_packets, last.ipackets), tx_pps = rate(st.tx_packets, last.opackets);
  const uint64_t rx_bps = rate(st.rx_bytes, last.ibytes) * 8, tx_bps = rate(st.tx_bytes, last.obytes) * 8;
  last_[p] = Snapshot{st.rx_packets, st.tx_packets, st.rx_bytes, st.tx_bytes, now_s};
  std::ostringstream o;
  o << "\n  ######################## NIC statistics for port " << std::left << std::setw(2) << p
    << " ########################\n"
    << "  RX-packets: " << std::setw(10) << st.rx_packets << " RX-missed: " << std::setw(10) << st.rx_missed
    << " RX-bytes:  " << st.rx_bytes << "\n"
    << "  RX-errors: " << st.rx_errors << "\n"
    << "  RX-nombuf:  " << std::setw(10) << st.rx_nombuf << "\n"
    << "  TX-packets: " << std::setw(10) << st.tx_packets << " TX-errors: " << std::setw(10) << st.tx_errors
    << " TX-bytes:  " << st.tx_bytes << "\n\n"
    << "  Throughput (since last show)\n"
    << "  Rx-pps: " << std::right << std::setw(12) << rx_pps << "          Rx-bps: " << std::setw(12) << rx_bps << "\n"
    << "  Tx-pps: " << std::setw(12) << tx_pps << "          Tx-bps: " << std::setw(12) << tx_bps << "\n"
    << "  ############################################################################\n";
  r.text += o.str();
  r.data.push_back({{"port", p}, {"rx_packets", st.rx_packets}, {"rx_missed", st.rx_missed}, {"rx_bytes", st.rx_bytes},
                    {"rx_errors", st.rx_errors}, {"rx_nombuf", st.rx_nombuf}, {"tx_packets", st.tx_packets},
                    {"tx_errors", st.tx_errors}, {"tx_bytes", st.tx_bytes}, {"rx_pps", rx_pps}, {"rx_bps", rx_bps},
                    {"tx_pps", tx_pps}, {"tx_bps", tx_bps}, {"interval_s", secs}});
}

}  // namespace nvmove
