#include "control/nved/metrics.h"

#include <sstream>
#include <string_view>

#include "dataplane/counters.h"

namespace nvmove {

namespace {
// A label value as the text format wants it: \, " and newline escaped.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

std::string prometheus_text(const MetricsInput &in) {
  std::ostringstream o;
  auto family = [&](const char *name, const char *type, const char *help) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  family("nve_packets_total", "counter", "Packets by outcome, per worker.");
  for (size_t w = 0; w < in.workers.size(); w++)
    for (size_t c = 0; c < dp::kCounterCount; c++)
      if (!dp::kCounterInfo[c].is_drop)
        o << "nve_packets_total{worker=\"" << w << "\",outcome=\"" << dp::kCounterInfo[c].name << "\"} "
          << in.workers[w][c] << "\n";
  family("nve_drop_packets_total", "counter", "Dropped packets by reason, per worker.");
  for (size_t w = 0; w < in.workers.size(); w++)
    for (size_t c = 0; c < dp::kCounterCount; c++)
      if (dp::kCounterInfo[c].is_drop) {
        const std::string_view n = dp::kCounterInfo[c].name;
        o << "nve_drop_packets_total{worker=\"" << w << "\",reason=\"" << n.substr(5) << "\"} " << in.workers[w][c]
          << "\n";
      }
  struct PortField {
    const char *name, *help;
    uint64_t drivers::PortCounters::*field;
  };
  const PortField fields[] = {
      {"nve_port_rx_packets_total", "Packets received by the port.", &drivers::PortCounters::rx_packets},
      {"nve_port_tx_packets_total", "Packets sent by the port.", &drivers::PortCounters::tx_packets},
      {"nve_port_rx_bytes_total", "Bytes received by the port.", &drivers::PortCounters::rx_bytes},
      {"nve_port_tx_bytes_total", "Bytes sent by the port.", &drivers::PortCounters::tx_bytes},
      {"nve_port_rx_missed_total", "Packets the port dropped for lack of RX descriptors.", &drivers::PortCounters::rx_missed},
      {"nve_port_rx_errors_total", "Erroneous received packets.", &drivers::PortCounters::rx_errors},
      {"nve_port_tx_errors_total", "Failed transmissions.", &drivers::PortCounters::tx_errors},
      {"nve_port_rx_nombuf_total", "RX mbuf allocation failures.", &drivers::PortCounters::rx_nombuf},
      {"nve_port_link_changes_total", "Link up/down transitions seen since start.", &drivers::PortCounters::link_changes},
  };
  for (const auto &f : fields) {
    family(f.name, "counter", f.help);
    for (size_t p = 0; p < in.ports.size(); p++) {
      o << f.name << "{port=\"" << p << "\"";
      if (p < in.port_labels.size())
        o << ",name=\"" << label(in.port_labels[p].first) << "\",role=\"" << in.port_labels[p].second << "\"";
      o << "} " << in.ports[p].*f.field << "\n";
    }
  }
  family("nve_control_packets_total", "counter", "Packets passed to the control thread, by what became of them.");
  o << "nve_control_packets_total{outcome=\"learnt\"} " << in.control_learnt << "\n";
  o << "nve_control_packets_total{outcome=\"unhandled\"} " << in.control_unhandled << "\n";
  family("nve_routes", "gauge", "Host routes installed.");
  o << "nve_routes " << in.routes << "\n";
  family("nve_route_table_capacity", "gauge", "Host routes the table can hold.");
  o << "nve_route_table_capacity " << in.route_capacity << "\n";
  family("nve_route_table_version", "gauge", "Published route table version (grows with each batch).");
  o << "nve_route_table_version " << in.table_version << "\n";
  family("nve_route_table_memory_bytes", "gauge", "Memory reserved by the route table.");
  o << "nve_route_table_memory_bytes " << in.route_memory_bytes << "\n";
  family("nve_build_info", "gauge", "nved's version.");
  o << "nve_build_info{version=\"" << NVMOVE_VERSION << "\"} 1\n";
  family("nve_start_time_seconds", "gauge", "When this nved started, seconds since the Unix epoch.");
  o << "nve_start_time_seconds " << in.start_time_unix_s << "\n";
  if (in.agent)
    in.agent->for_each([&](const char *name, const char *help, uint64_t value) {
      const std::string metric = std::string("nve_agent_") + name + "_total";
      family(metric.c_str(), "counter", help);
      o << metric << " " << value << "\n";
    });
  return o.str();
}

}  // namespace nvmove
