// nvxdp: nvmove's fast path in the kernel's XDP hook, for hosts that cannot
// give cores and hugepages to DPDK (issue 16, docs/xdp.md). A program of its
// own rather than a mode of nved: nved's runtime is DPDK from its first line
// (EAL, mempools, lcores, ethdev ports), none of which XDP wants; what the two
// share is a library away: the configuration (nved's own format and parser),
// the static routes, the route changes (RouteBackend: XdpRoutes here).
//
//   nvxdp -c nved.yaml [--object nve_xdp.bpf.o] [--mode auto|native|generic]
//         [--ctl-socket PATH] [--counters-json PATH] [--check-config]
//         [--pin-dir DIR [--keep-attached]]
//
// It loads the program, describes the ports (ports[].interface, else the
// port's name, is the kernel interface), installs the configuration's routes,
// attaches to every port (native XDP where the driver has it: --mode auto),
// runs the mobility agent when the configuration has one (registrations with
// nvad, move notifications: redirects become routes in the program's maps),
// serves nvectl on its control socket (nvectl -s PATH: nved's commands that
// mean something without DPDK, xdp_commands.h), and runs until
// SIGTERM / SIGINT, then detaches and writes its counters. With --pin-dir
// its maps outlive it in bpffs and the next nvxdp takes them over; with
// --keep-attached too it leaves the program attached when it stops, so a
// restart forwards without a gap (docs/xdp.md, "Restarts").
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "control/agent/agent_state_file.h"
#include "control/agent/nve_agent.h"
#include "control/agent/udp_transport.h"
#include "control/base/clock.h"
#include "control/base/daemon_signals.h"
#include "control/ctl/command_table.h"
#include "control/ctl/ctl_socket.h"
#include "control/ctl/table.h"
#include "control/agent/nvad_list.h"
#include "control/nved/agent_commands.h"
#include "control/nved/config.h"
#include "control/nved/mobility.h"
#include "control/nved/reload.h"
#include "control/nvxdp/announcement_listener.h"
#include "control/nvxdp/fabric_neighbours.h"
#include "control/nvxdp/fragment_sender.h"
#include "control/nvxdp/xdp_commands.h"
#include "control/nvxdp/xdp_traces.h"
#include "control/nvxdp/xdp_metrics.h"
#include "control/base/metrics_http.h"
#include "control/protocol/keys.h"
#include "dataplane/classify.h"
#include "dataplane/counters.h"
#include "drivers/xdp/xdp_attach.h"
#include "drivers/xdp/xdp_program.h"
#include "drivers/xdp/xdp_routes.h"

using namespace nvmove;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }  // async-signal-safe: a lock-free store

int usage(const char *why) {
  std::fprintf(stderr,
               "nvxdp: %s\nusage: nvxdp -c CONFIG [--object PATH] [--mode auto|native|generic] "
               "[--ctl-socket PATH] [--counters-json PATH] [--check-config] [--pin-dir DIR [--keep-attached]]\n",
               why);
  return 2;
}

// The interface's driver ("veth", "mlx5_core"), from ETHTOOL_GDRVINFO.
std::string interface_driver(const std::string &name) {
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char *>(&info);
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return "?";
  const int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  return rc == 0 ? std::string(info.driver) : "?";
}

std::optional<MacAddress> interface_mac(const std::string &name) {
  std::ifstream f("/sys/class/net/" + name + "/address");
  std::string text;
  if (!(f >> text)) return std::nullopt;
  return parse_mac(text);
}

// The object beside the build tree's binary, else where meson installs it.
std::string default_object() {
  std::error_code ec;
  const auto self = std::filesystem::canonical(std::filesystem::path("/proc/self/exe"), ec);
  const auto built = self.parent_path().parent_path().parent_path() / "drivers" / "xdp" / "nve_xdp.bpf.o";
  if (!ec && std::filesystem::exists(built)) return built.string();
  return NVE_XDP_INSTALLED;
}

}  // namespace

int main(int argc, char **argv) {
  std::string config_path, object, mode = "auto", counters_json, ctl_path = "/run/nvmove/nvxdp.sock", pin_dir;
  bool check_only = false, keep_attached = false;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-c" || a == "--config") {
      const char *v = value();
      if (!v) return usage("-c needs a file");
      config_path = v;
    } else if (a == "--object") {
      const char *v = value();
      if (!v) return usage("--object needs a file");
      object = v;
    } else if (a == "--mode") {
      const char *v = value();
      if (!v || (std::string(v) != "auto" && std::string(v) != "native" && std::string(v) != "generic"))
        return usage("--mode is auto, native or generic");
      mode = v;
    } else if (a == "--ctl-socket") {
      const char *v = value();
      if (!v) return usage("--ctl-socket needs a path");
      ctl_path = v;
    } else if (a == "--counters-json") {
      const char *v = value();
      if (!v) return usage("--counters-json needs a file");
      counters_json = v;
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--pin-dir") {
      const char *v = value();
      if (!v || !*v) return usage("--pin-dir needs a directory (on bpffs: /sys/fs/bpf/...)");
      pin_dir = v;
    } else if (a == "--keep-attached") {
      keep_attached = true;
    } else {
      return usage(("unknown argument " + a).c_str());
    }
  }
  if (config_path.empty()) return usage("-c CONFIG is required");
  if (keep_attached && pin_dir.empty())
    return usage("--keep-attached needs --pin-dir: the next nvxdp takes the maps over from there");
  if (object.empty()) object = default_object();

  NvedConfig cfg;
  std::vector<RouteChange> routes;
  std::string config_text;  // show config: the file as it was read
  try {
    config_text = read_config_file(config_path);
    cfg = load_config_text(config_text, config_path);
    routes = static_routes(cfg);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::vector<XdpPort> ports;
  for (const auto &p : cfg.ports) {
    XdpPort port{&p, p.interface.empty() ? p.name : p.interface, 0, {}, ""};
    port.ifindex = if_nametoindex(port.interface.c_str());
    auto mac = interface_mac(port.interface);
    if (!port.ifindex || !mac)
      return std::fprintf(stderr, "%s: port %s: no interface %s\n", config_path.c_str(), p.name.c_str(),
                          port.interface.c_str()),
             1;
    port.mac = *mac;
    port.driver = interface_driver(port.interface);
    for (const auto &other : ports)
      if (other.ifindex == port.ifindex)
        return std::fprintf(stderr, "%s: ports %s and %s are both interface %s: one port per interface in XDP mode\n",
                            config_path.c_str(), other.cfg->name.c_str(), p.name.c_str(), port.interface.c_str()),
               1;
    ports.push_back(port);
  }
  if (check_only) {
    std::printf("%s: valid for XDP mode (%zu ports, %zu routes)\n", config_path.c_str(), ports.size(), routes.size());
    return 0;
  }

  // SIGTERM / SIGINT stop, SIGHUP reloads (below), SIGPIPE never kills.
  install_daemon_signals(on_signal);
  // The control socket first: a live nvxdp answering on it means this is a
  // second instance, which must touch nothing (not the pinned maps, not the
  // program on the interfaces) and go.
  std::error_code dir_error;
  if (const auto dir = std::filesystem::path(ctl_path).parent_path(); !dir.empty())
    std::filesystem::create_directories(dir, dir_error);
  ctl::CtlServer ctl(ctl_path, ctl::nved_commands());
  try {
    ctl.open();
  } catch (const std::exception &e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  std::unique_ptr<drivers::XdpProgram> prog;
  try {
    prog = std::make_unique<drivers::XdpProgram>(object, cfg.route_capacity, pin_dir);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "nvxdp: %s\n", e.what());
    return 1;
  }
  // Taking over: the interfaces the earlier instance served, before this
  // configuration's ports are written over its.
  const std::vector<uint32_t> earlier_interfaces = prog->took_over() ? prog->port_interfaces() : std::vector<uint32_t>{};
  dp::DataplaneSettings ds;  // for dp::ingress_vn: the fabric port's VN is nve.fabric_vn
  ds.fabric_vn = cfg.fabric_vn;
  dp::FabricParams fabric;
  std::vector<uint32_t> port_indexes;
  for (const auto &port : ports) {
    port_indexes.push_back(port.cfg->port_id);
    dp::PortSettings ps;
    ps.role = port.cfg->role == PortConfig::Role::Fabric ? dp::PortRole::Fabric : dp::PortRole::Access;
    ps.vn = port.cfg->vn;
    prog->set_port(port.cfg->port_id, port.ifindex, port.mac, dp::ingress_vn(ds, ps), port.cfg->vlan);
    prog->set_redirect(port.cfg->port_id, port.ifindex);
    if (port.cfg->role == PortConfig::Role::Fabric) {
      fabric.port = port.cfg->port_id;
      fabric.port_mac = port.mac;
    }
  }
  fabric.gateway_mac_v4 = cfg.gateway_mac_ipv4;
  fabric.gateway_mac_v6 = cfg.gateway_mac_ipv6;
  fabric.own_v4 = cfg.nve_ipv4;
  fabric.own_v6 = cfg.nve_ipv6;
  fabric.outer_ttl = cfg.tunnel_ttl;
  nve_xdp_settings set{};
  set.tunnel_mtu = cfg.tunnel_mtu;
  set.dscp_set = cfg.tunnel_dscp >= 0;
  set.dscp = static_cast<uint8_t>(cfg.tunnel_dscp >= 0 ? cfg.tunnel_dscp : 0);
  if (cfg.nve_ipv4.is_v4()) drivers::add_own_address(set, cfg.nve_ipv4, cfg.fabric_vn);
  if (cfg.nve_ipv6.is_v6()) drivers::add_own_address(set, cfg.nve_ipv6, cfg.fabric_vn);
  drivers::set_icmp_errors(set, cfg.nve_ipv4, cfg.nve_ipv6, cfg.icmp_rate_per_sec, cfg.icmp_burst);
  set.fabric_port = static_cast<uint8_t>(cfg.fabric_port()->port_id);
  if (!drivers::set_tunnel_peers(set, cfg.tunnel_peers))
    return std::fprintf(stderr, "%s: tunnel.peers: at most %d IPv4 and %d IPv6 prefixes in XDP mode\n", config_path.c_str(),
                        NVE_XDP_MAX_PEER_PREFIXES, NVE_XDP_MAX_PEER_PREFIXES),
           1;
  // veth: XDP_TX frames did not reach the peer, redirected ones did
  // (docs/xdp.md): send back out the same port by redirection there.
  for (const auto &port : ports) set.tx_redirect |= port.driver == "veth";
  // The slow path's cookie: frames without it are nobody's (fragment_sender.h).
  if (getrandom(set.slow_cookie, sizeof set.slow_cookie, 0) != static_cast<ssize_t>(sizeof set.slow_cookie)) {
    spdlog::error("getrandom: {}", std::strerror(errno));
    return 1;
  }
  drivers::XdpRoutes table(*prog, fabric, set);
  // Taking over an earlier nvxdp's pinned maps: its program forwards on
  // them until ours replaces it; the NVE headers keep their indices while
  // the routes are written again, and what nobody names any more goes once
  // the agent's state is back (prune, below).
  if (prog->took_over()) {
    // Ports the earlier instance had and this configuration has not:
    // forgotten, and its program taken off their interfaces.
    prog->clear_ports_except(port_indexes);
    for (const uint32_t ifindex : earlier_interfaces) {
      bool ours = false;
      for (const auto &port : ports) ours = ours || port.ifindex == ifindex;
      if (ours) continue;
      spdlog::info("interface {} is no longer a port: forgotten{}", ifindex,
                   drivers::detach_earlier(ifindex) ? ", the earlier nvxdp's program detached from it" : "");
    }
    table.adopt();
    spdlog::info("maps pinned at {} taken over: {} NVE header(s) kept", pin_dir, table.nve_count());
  } else if (!pin_dir.empty()) {
    spdlog::info("maps pinned at {}", pin_dir);
  }
  const auto res = table.apply(routes);
  for (const auto &e : res.errors)
    spdlog::warn("route vn {} {} not installed: {}", routes[e.index].route.vn, routes[e.index].route.address.to_string(),
                 e.reason);
  spdlog::info("nvxdp: {} route(s) installed ({} NVE header(s)), {} refused", res.applied, table.nve_count(),
               res.errors.size());

  // Attach everywhere, or nowhere: a port left without the program would
  // forward nothing nvmove routes. Never over another program; over an
  // earlier nvxdp's, in one step.
  drivers::XdpAttachment attachment(prog->program_fd());
  // However nvxdp ends: with --keep-attached the program stays and forwards
  // on the pinned maps until the next nvxdp takes over; else it goes, and
  // so do the pins (the next start begins empty).
  auto detach_all = [&] {
    if (keep_attached) {
      if (attachment.size())
        spdlog::info("leaving the program attached to {} port(s), maps pinned at {}: it forwards on the routes it "
                     "has until the next nvxdp --pin-dir {} takes over",
                     attachment.size(), pin_dir, pin_dir);
      attachment.release();
      return;
    }
    attachment.detach_all();
    prog->unpin();
  };
  for (auto &port : ports) {
    drivers::XdpAttachment::Attached how;
    if (auto why = attachment.attach(port.ifindex, mode, how)) {
      spdlog::error("port {} ({}): cannot attach XDP ({}): {}", port.cfg->name, port.interface, mode, *why);
      detach_all();
      return 1;
    }
    port.xdp_mode = how.mode;
    spdlog::info("port {} ({}, ifindex {}, driver {}, MAC {}): XDP attached, {} mode{}", port.cfg->name,
                 port.interface, port.ifindex, port.driver, mac_to_string(port.mac), how.mode,
                 how.replaced ? " (replacing an earlier nvxdp's program, without a gap)" : "");
  }
  // The mobility agent if configured: served from this loop with the
  // control socket, as nved's control thread serves them.
  std::unique_ptr<agent::UdpTransport> transport;
  std::unique_ptr<agent::NveAgent> mobility;
  std::unique_ptr<agent::AgentStateFile> state_file;  // agent.state_file
  proto::KeyTable keys;
  KeyReload reload_keys;  // the agent's key file, at SIGHUP and nvectl reload
  SystemClock clock;
  if (cfg.agent.enabled) {
    if (auto why = agent::load_agent_keys(cfg.agent.key_file, cfg.agent.nvads, keys)) {
      spdlog::error("agent.key_file: {}", *why);
      detach_all();
      return 1;
    }
    try {
      transport = std::make_unique<agent::UdpTransport>(cfg.agent.listen, cfg.agent.listen_port);
    } catch (const std::exception &e) {
      spdlog::error("{}", e.what());
      detach_all();
      return 1;
    }
    mobility = std::make_unique<agent::NveAgent>(agent_config_of(cfg), table, *transport, keys, clock);
    state_file = std::make_unique<agent::AgentStateFile>(cfg.agent.state_file, *mobility);
    state_file->restore();
    register_agent_commands(ctl, *mobility, cfg);
    reload_keys = [&keys, &cfg] { return agent::load_agent_keys(cfg.agent.key_file, cfg.agent.nvads, keys); };
    spdlog::info("mobility agent: nvad {} port {}, listening on {} port {}", agent::nvads_text(cfg.agent.nvads),
                 cfg.agent.nvad_port, cfg.agent.listen.to_string(), transport->local_port());
  }
  // The Prometheus page: `nvectl show metrics`, and over HTTP when the
  // configuration has a metrics section (nved's families; a worker is a CPU).
  const XdpMetrics metrics(*prog, table, ports, cfg.route_capacity);
  std::unique_ptr<MetricsHttp> metrics_http;
  if (cfg.metrics.address.family) {
    try {
      metrics_http = std::make_unique<MetricsHttp>(cfg.metrics, [&metrics, &mobility] { return metrics.render(mobility.get()); });
    } catch (const std::exception &e) {
      spdlog::error("{}", e.what());
      detach_all();
      return 1;
    }
    spdlog::info("metrics: http://{}/metrics", metrics_http->where());
  }
  // MACs on the fabric from the kernel's neighbour table: the gateway's
  // (unless the configuration gives it), the default-router role's next hops.
  const XdpPort *fabric_port = nullptr;
  for (const auto &port : ports)
    if (port.cfg->role == PortConfig::Role::Fabric) fabric_port = &port;
  FabricNeighbours neighbours(cfg, fabric_port->interface, fabric_port->ifindex, fabric, table);
  if (neighbours.resolves_gateway()) spdlog::info("fabric gateway: resolved by the kernel on {}", fabric_port->interface);
  // VMs announcing themselves on the access ports activate them, as in nved.
  std::unique_ptr<AnnouncementListener> announcements;
  if (mobility) {
    announcements = std::make_unique<AnnouncementListener>(
        [&mobility](uint16_t port, uint16_t vlan, const MacAddress &mac, const IpAddress &address) {
          mobility->on_vm_announcement(port, vlan, mac, address);
        });
    try {
      for (const auto &port : ports)
        if (port.cfg->role == PortConfig::Role::Access)
          announcements->listen(port.cfg->port_id, port.ifindex, port.interface);
    } catch (const std::exception &e) {
      spdlog::error("{}", e.what());
      detach_all();
      return 1;
    }
  }
  // IPv4 packets without DF too big for their tunnel: the program hands
  // them over, fragmented and sent here (fragment_sender.h).
  std::map<uint32_t, unsigned> port_interfaces;
  for (const auto &port : ports) port_interfaces[port.cfg->port_id] = port.ifindex;
  FragmentSender fragments(table, port_interfaces, cfg.tunnel_mtu, static_cast<int16_t>(cfg.tunnel_dscp));
  try {
    for (const auto &port : ports) fragments.listen(port.ifindex, port.interface);
  } catch (const std::exception &e) {
    spdlog::error("{}", e.what());
    detach_all();
    return 1;
  }
  // SIGHUP and `nvectl reload`: as nved (control/nved/reload.h): the file
  // read again, the agent's key file applied, every other change named as
  // needing a restart.
  register_reload_command(ctl, config_path, cfg, reload_keys);
  // Packet traces (trace add / show trace / clear trace), as nved's.
  std::unique_ptr<XdpTraces> traces;
  try {
    traces = std::make_unique<XdpTraces>(*prog, ports, cfg);
  } catch (const std::exception &e) {
    spdlog::error("{}", e.what());
    detach_all();
    return 1;
  }
  traces->register_commands(ctl);
  // Every other command nvectl has for nvxdp (the agent's are in already).
  XdpCommands commands(*prog, table, ports, cfg, config_text, neighbours, metrics, fragments);
  commands.register_all(ctl, mobility.get());
  if (mobility && cfg.agent.router) {
    neighbours.serve_router(mobility.get());
    spdlog::info("default-router role: host routes out of {} to the serving NVEs the kernel resolves",
                 fabric_port->interface);
  }
  if (prog->took_over()) {
    const size_t stale = table.prune();
    spdlog::info("takeover complete: {} route(s) nobody names any more removed", stale);
  }
  spdlog::info("nvxdp running; control socket {}", ctl_path);
  while (!g_stop.load()) {
    if (mobility) {
      transport->poll([&](const IpAddress &from, uint16_t port, std::span<const uint8_t> d) {
        mobility->on_datagram(from, port, d);
      });
      mobility->tick();
      state_file->save_if_changed();
    }
    ctl.poll();
    if (metrics_http) metrics_http->poll();
    neighbours.poll(clock.now_ms());
    if (announcements) announcements->poll();
    fragments.poll(clock.now_ms());
    traces->poll();
    if (take_hangup()) {
      const auto report = reload_configuration(config_path, cfg, reload_keys);
      for (const auto &line : report.lines)
        spdlog::log(report.ok ? spdlog::level::warn : spdlog::level::err, "SIGHUP received: {}", line);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  spdlog::info("nvxdp stopping{}", keep_attached ? "" : ": detaching");
  detach_all();
  if (!counters_json.empty()) {
    nlohmann::json counters = nlohmann::json::object();
    for (size_t c = 0; c < dp::kCounterCount; c++)
      counters[dp::kCounterInfo[c].name] = prog->counter(static_cast<uint32_t>(c));
    std::ofstream out(counters_json);
    out << nlohmann::json{{"counters", counters}}.dump(1) << "\n";
  }
  return 0;
}
