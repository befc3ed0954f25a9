// nved: the NVE fast path. EAL arguments first, then `--`, then nved's own:
//   nved -l 0,1 --no-huge -m 512 --vdev net_pcap0,... -- -c nved.yaml
#include <getopt.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "control/nved/config.h"
#include "control/nved/control_loop.h"
#include "control/base/metrics_http.h"
#include "control/nved/counters_report.h"
#include "control/nved/reload.h"
#include "control/nved/trace_commands.h"
#include "control/ctl/ctl_socket.h"
#include "control/nved/commands.h"
#include "control/base/daemon_signals.h"
#include "control/nved/mobility.h"
#include "control/nved/telemetry.h"

#include <chrono>
#include <memory>
#include "control/nved/runtime.h"

namespace {

std::atomic<bool> g_stop{false};

void on_stop_signal(int) { g_stop.store(true, std::memory_order_release); }

struct Options {
  std::string config;
  uint32_t exit_when_idle_ms = 0;
  std::string counters_json;
  bool check_only = false;
  std::string log_level = "info";
  std::string ctl_socket;  // default: <EAL runtime dir>/nved.sock
};

void usage(std::ostream &o) {
  o << "usage: nved [EAL options] -- -c FILE [options]\n"
       "  -c, --config FILE         configuration (YAML), see docs/configuration.md\n"
       "      --check-config        validate the configuration and exit\n"
       "      --exit-when-idle MS   exit once no packet arrived for MS milliseconds\n"
       "                            (capture-file runs), printing the counters\n"
       "      --counters-json FILE  write all counters as JSON to FILE at exit\n"
       "      --log-level LEVEL     trace, debug, info, warn, error (default info)\n"
       "      --ctl-socket PATH     nvectl socket (default /var/run/dpdk/<file-prefix>/nved.sock)\n"
       "  -h, --help                this text\n";
}

// nved's own options (after "--"); -h / --help last.
const option kLongOptions[] = {{"config", required_argument, nullptr, 'c'},
                               {"check-config", no_argument, nullptr, 'k'},
                               {"exit-when-idle", required_argument, nullptr, 'i'},
                               {"counters-json", required_argument, nullptr, 'j'},
                               {"log-level", required_argument, nullptr, 'l'},
                               {"ctl-socket", required_argument, nullptr, 's'},
                               {"help", no_argument, nullptr, 'h'},
                               {nullptr, 0, nullptr, 0}};

// An option of nved's own (not help), as typed: -c or --NAME.
bool is_nved_option(const std::string &arg) {
  if (arg == "-c") return true;
  for (const option *o = kLongOptions; o->name; o++)
    if (o->val != 'h' && arg == std::string("--") + o->name) return true;
  return false;
}

// Returns 0 to go on, or an exit code.
int parse_options(int argc, char **argv, Options &o) {
  const option *longopts = kLongOptions;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "c:h", longopts, nullptr)) != -1) {
    switch (c) {
      case 'c': o.config = optarg; break;
      case 'k': o.check_only = true; break;
      case 'i': {
        char *end;
        const unsigned long v = std::strtoul(optarg, &end, 10);
        if (*end || v == 0 || v > 3600000) {
          std::cerr << "nved: --exit-when-idle: expected milliseconds 1..3600000, got '" << optarg << "'\n";
          return 2;
        }
        o.exit_when_idle_ms = static_cast<uint32_t>(v);
        break;
      }
      case 'j': o.counters_json = optarg; break;
      case 'l': o.log_level = optarg; break;
      case 's': o.ctl_socket = optarg; break;
      case 'h': usage(std::cout); return -1;
      default: usage(std::cerr); return 2;
    }
  }
  if (optind < argc) {
    std::cerr << "nved: unexpected argument '" << argv[optind] << "'\n";
    return 2;
  }
  if (o.config.empty()) {
    std::cerr << "nved: missing -c/--config\n";
    usage(std::cerr);
    return 2;
  }
  const auto lvl = spdlog::level::from_str(o.log_level);
  if (lvl == spdlog::level::off && o.log_level != "off") {
    std::cerr << "nved: --log-level: unknown level '" << o.log_level << "'\n";
    return 2;
  }
  spdlog::set_level(lvl);
  return 0;
}

// "0-1,3": the CPUs this process may run on, for messages.
std::string cpu_list_text(const cpu_set_t &set) {
  std::string out;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, &set)) continue;
    int last = c;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) last++;
    out += (out.empty() ? "" : ",") + std::to_string(c) + (last > c ? "-" + std::to_string(last) : "");
    c = last;
  }
  return out;
}

// EAL's -l LIST names CPUs; one this process may not use makes EAL print its
// whole usage (about 100 lines) with the reason buried in it. Checked first,
// with one line that says what to change. Anything this does not parse is
// left to EAL.
bool lcores_available(const std::vector<char *> &eal) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return true;
  for (size_t i = 1; i < eal.size(); i++) {
    std::string list;
    if (std::strcmp(eal[i], "-l") == 0 && i + 1 < eal.size()) list = eal[i + 1];
    else if (std::strncmp(eal[i], "-l", 2) == 0 && std::isdigit(static_cast<unsigned char>(eal[i][2]))) list = eal[i] + 2;
    else continue;
    std::istringstream items(list);
    for (std::string item; std::getline(items, item, ',');) {
      unsigned first = 0, last = 0;
      char dash = 0;
      std::istringstream one(item);
      if (!(one >> first)) return true;
      last = first;
      if (one >> dash && (dash != '-' || !(one >> last))) return true;
      for (unsigned c = first; c <= last && c < CPU_SETSIZE; c++)
        if (!CPU_ISSET(c, &allowed)) {
          std::cerr << "nved: -l " << list << ": CPU " << c << " is not available to this process (it may use CPUs "
                    << cpu_list_text(allowed) << ")\n";
          return false;
        }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  // Split at "--": EAL gets what is before, nved what is after. The
  // configuration is checked before EAL starts, so a typo costs no hugepages.
  int split = argc;
  for (int i = 1; i < argc; i++)
    if (std::strcmp(argv[i], "--") == 0) {
      split = i;
      break;
    }
  if (split == argc) {
    // nved's own options before EAL's would be taken for EAL's: say so.
    for (int i = 1; i < argc; i++) {
      const std::string a = argv[i];
      if (is_nved_option(a)) {
        std::cerr << "nved: '" << a << "' is an option of nved, not of EAL: put nved's options after '--'\n"
                  << "  nved [EAL options] -- -c FILE [options]   (e.g. nved -l 0,1 -- -c /etc/nvmove/nved.yaml)\n";
        return 2;
      }
      if (a == "-h" || a == "--help") {
        usage(std::cout);
        return 0;
      }
    }
  }
  std::vector<char *> app{argv[0]};
  for (int i = split + 1; i < argc; i++) app.push_back(argv[i]);
  app.push_back(nullptr);
  Options opt;
  if (const int rc = parse_options(static_cast<int>(app.size() - 1), app.data(), opt)) return rc < 0 ? 0 : rc;

  nvmove::NvedConfig cfg;
  std::string config_text;
  try {
    config_text = nvmove::read_config_file(opt.config);
    cfg = nvmove::load_config_text(config_text, opt.config);
  } catch (const nvmove::ConfigError &e) {
    // One line per mistake, each with the prefix (the loader reports them all).
    std::istringstream lines(e.what());
    for (std::string line; std::getline(lines, line);) std::cerr << "nved: configuration error: " << line << "\n";
    return 2;
  }
  if (opt.check_only) {
    std::cout << opt.config << ": OK (" << cfg.ports.size() << " ports, " << cfg.local_vms.size()
              << " local VMs, " << cfg.moved_vms.size() << " moved VMs)\n";
    return 0;
  }

  // A counters file that cannot be written is found now, not after the run.
  if (!opt.counters_json.empty()) {
    std::ofstream probe(opt.counters_json, std::ios::app);
    if (!probe) {
      std::cerr << "nved: --counters-json " << opt.counters_json << ": cannot write: " << std::strerror(errno) << "\n";
      return 2;
    }
  }
  // Before EAL starts its threads, so they inherit nothing fatal.
  nvmove::install_daemon_signals(on_stop_signal);
  std::vector<char *> eal(argv, argv + split);
  if (!lcores_available(eal)) return 2;
  const int used = rte_eal_init(static_cast<int>(eal.size()), eal.data());
  if (used < 0) {
    std::cerr << "nved: EAL initialisation failed: " << rte_strerror(rte_errno) << "\n";
    return 3;
  }

  int rc = 0;
  try {
    // Lets dpdk-dumpcap capture on our ports (needs multi-process support).
    if (rte_pdump_init() != 0) spdlog::warn("packet capture (rte_pdump) unavailable: {}", rte_strerror(rte_errno));

    nvmove::NvedRuntime rt(cfg);
    const auto res = rt.routes().apply(nvmove::static_routes(cfg));  // ConfigError if route_file is bad
    for (const auto &e : res.errors) spdlog::error("static route {}: {}", e.index, e.reason);
    if (!res.errors.empty()) throw std::runtime_error("static routes from the configuration failed");
    spdlog::info("{} routes installed (table version {})", res.applied, res.table_version);

    rt.start_workers();
    nvmove::ControlLoop loop(rt, cfg, g_stop);
    const std::string sock = opt.ctl_socket.empty() ? std::string(rte_eal_get_runtime_dir()) + "/nved.sock" : opt.ctl_socket;
    nvmove::ctl::CtlServer ctl(sock, nvmove::ctl::nved_commands());
    nvmove::NvedCommands commands(rt, cfg, loop, config_text);
    commands.register_all(ctl);
    nvmove::register_trace_commands(ctl, rt, cfg);
    ctl.open();
    loop.set_ctl_server(&ctl);
    nvmove::register_telemetry(sock);

    // The mobility agent (registration with nvad, move notifications), when configured.
    const auto mobility = nvmove::Mobility::start(cfg, rt, ctl, loop);
    if (mobility) commands.set_agent(&mobility->agent());
    // SIGHUP and `nvectl reload`: the configuration file is read again; the
    // agent's key file is applied (a key rollover needs no restart), every
    // other change is reported as needing a restart (control/nved/reload.h).
    nvmove::KeyReload reload_keys;
    if (mobility) reload_keys = [m = mobility.get()] { return m->reload_keys(); };
    nvmove::register_reload_command(ctl, opt.config, cfg, reload_keys);
    loop.add_poller([reload_keys, &cfg, &opt] {
      if (!nvmove::take_hangup()) return;
      const auto report = nvmove::reload_configuration(opt.config, cfg, reload_keys);
      for (const auto &line : report.lines)
        spdlog::log(report.ok ? spdlog::level::warn : spdlog::level::err, "SIGHUP received: {}", line);
    });
    // Prometheus scrape endpoint (metrics.address/port): the same page as
    // `nvectl show metrics`, rendered in this (the control) thread.
    std::unique_ptr<nvmove::MetricsHttp> metrics_http;
    if (cfg.metrics.address.family) {
      metrics_http = std::make_unique<nvmove::MetricsHttp>(cfg.metrics, [&ctl] {
        return ctl.dispatch({{"command", "show metrics"}, {"args", nlohmann::json::array()}}).text_form();
      });
      loop.add_poller([&metrics_http] { metrics_http->poll(); });
      spdlog::info("metrics: http://{}/metrics", metrics_http->where());
    }
    spdlog::info("control socket {}", sock);
    nvmove::ControlLoopOptions lo;
    lo.exit_when_idle_ms = opt.exit_when_idle_ms;
    loop.run(lo);
    rt.stop_workers();

    const nvmove::ctl::Record totals =
        nvmove::exit_counter_record(rt, {loop.packets_learnt(), loop.packets_unhandled()});
    if (!opt.counters_json.empty()) {
      std::ofstream f(opt.counters_json);
      f << nvmove::exit_counters_json(rt, totals).dump(2) << "\n";
      if (!f) {
        spdlog::error("--counters-json {}: cannot write the counters: {}", opt.counters_json, std::strerror(errno));
        rc = 1;
      }
    }
    std::cout << "counters:\n" << totals.text();
    if (rte_pdump_uninit() != 0) spdlog::debug("rte_pdump_uninit failed");
  } catch (const std::exception &e) {
    std::cerr << "nved: " << e.what() << "\n";
    rc = 1;
  }
  rte_eal_cleanup();
  return rc;
}
