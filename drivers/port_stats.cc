#include "drivers/port_stats.h"

#include <spdlog/spdlog.h>

#include "drivers/port.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>

#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <algorithm>

namespace nvmove::drivers {

PortCounters port_counters(uint16_t port_id) {
  rte_eth_stats st{};
  if (rte_eth_stats_get(port_id, &st) != 0) return {};
  return {st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed, st.ierrors, st.oerrors, st.rx_nombuf};
}

void port_counters_reset(uint16_t port_id) {
  rte_eth_stats_reset(port_id);
  rte_eth_xstats_reset(port_id);
}

std::optional<bool> kernel_interface_up(const std::string &interface) {
  std::ifstream f("/sys/class/net/" + interface + "/operstate");
  std::string state;
  if (!(f >> state)) return std::nullopt;
  // "unknown" is what working lo/dummy/tun devices report: only a state
  // that says down is down.
  return !(state == "down" || state == "lowerlayerdown" || state == "notpresent" || state == "dormant");
}

namespace {

// net_af_packet, net_af_xdp and net_pcap on an interface (iface=) report
// their link up from port start to stop, whatever the kernel interface they
// read does (DPDK 22.11); for them the interface's operstate (in this
// process's network namespace) is the truth. nullopt for every other driver
// (and for net_pcap on capture files).
std::optional<bool> kernel_interface_link(uint16_t port_id) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) != 0 || !info.driver_name || !info.device) return std::nullopt;
  const std::string_view driver = info.driver_name;
  if (driver != "net_af_packet" && driver != "net_af_xdp" && driver != "net_pcap") return std::nullopt;
  const rte_devargs *devargs = rte_dev_devargs(info.device);
  if (!devargs || !devargs->args) return std::nullopt;
  const std::string args = devargs->args;
  const auto at = args.find("iface=");
  if (at == std::string::npos) return std::nullopt;
  const std::string iface = args.substr(at + 6, args.find(',', at) - (at + 6));
  return kernel_interface_up(iface);
}

}  // namespace

void LinkWatch::poll(uint64_t now_ms) {
  if (now_ms < next_ms_) return;
  next_ms_ = now_ms + 100;
  for (uint16_t p = 0; p < up_.size(); p++) {
    const PortLink link = port_link(p);
    if (up_[p] && *up_[p] != link.up) {
      changes_[p]++;
      spdlog::warn("{}: link {} ({} change(s) since start)", port_name(p), link.up ? "up" : "down", changes_[p]);
    }
    up_[p] = link.up;
  }
}

PortLink port_link(uint16_t port_id) {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id, &link) != 0) return {};
  PortLink out{link.link_status == RTE_ETH_LINK_UP, link.link_speed};
  if (auto kernel = kernel_interface_link(port_id)) out.up = out.up && *kernel;
  return out;
}

std::optional<std::vector<std::pair<std::string, uint64_t>>> port_xstats(uint16_t port_id) {
  const int n = rte_eth_xstats_get(port_id, nullptr, 0);
  if (n < 0) return std::nullopt;
  std::vector<rte_eth_xstat> values(static_cast<size_t>(n));
  std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
  // The count can change between calls (a port reconfigured): use what both
  // calls returned, never more than was allocated.
  const int got_values = rte_eth_xstats_get(port_id, values.data(), static_cast<unsigned>(n));
  const int got_names = rte_eth_xstats_get_names(port_id, names.data(), static_cast<unsigned>(n));
  if (got_values < 0 || got_names < 0) return std::nullopt;
  std::vector<std::pair<std::string, uint64_t>> out;
  const int count = std::min({n, got_values, got_names});
  for (int i = 0; i < count; i++) {
    const uint64_t id = values[static_cast<size_t>(i)].id;
    if (id >= static_cast<uint64_t>(count)) continue;
    out.emplace_back(names[id].name, values[static_cast<size_t>(i)].value);
  }
  return out;
}

}  // namespace nvmove::drivers
