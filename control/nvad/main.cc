// nvad: the management node of the VM mobility protocol (docs/nvad.md).
//
//   nvad -c /etc/nvmove/nvad.yaml            run until SIGTERM / SIGINT
//   nvad -c /etc/nvmove/nvad.yaml --check    check the configuration and key file, then exit
//
// Exit status: 0 clean stop or good configuration, 1 runtime failure
// (socket, store), 2 bad command line, configuration or key file.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "control/base/clock.h"
#include "control/nvad/config_loader.h"
#include "control/ctl/ctl_socket.h"
#include "control/base/daemon_signals.h"
#include "control/nvad/commands.h"
#include "control/nvad/exabgp_export.h"
#include "control/nvad/route_export.h"
#include "control/nvad/metrics.h"
#include "control/nvad/server.h"
#include "control/nvad/etcd_store.h"
#include "control/etcd/etcd_client.h"
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include "control/nvad/text_format.h"
#include "control/protocol/keys.h"

namespace {

using namespace nvmove;

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

std::atomic<nvad::Server *> g_server{nullptr};
std::atomic<bool> g_stop_requested{false};

// A stop asked before the server exists is remembered and honoured as soon
// as it does (main checks g_stop_requested after publishing g_server).
void on_stop_signal(int) {
  g_stop_requested.store(true, std::memory_order_release);
  if (nvad::Server *s = g_server.load(std::memory_order_acquire)) s->request_stop();
}

// SIGHUP: the key file is read again (a key rollover needs no restart); the
// rest of the configuration needs one. A key file that does not load leaves
// the keys in use as they were.
void reload_on_hangup(nvad::Server &server, const std::string &key_file) {
  if (!take_hangup()) return;
  auto keys = proto::load_key_file(key_file);
  if (!keys) {
    spdlog::error("SIGHUP received: key file not reloaded, the keys in use stay: {}", keys.error().message);
    return;
  }
  const size_t n = keys->size();
  server.replace_keys(std::move(keys).value());
  spdlog::warn("SIGHUP received: key file {} reloaded ({} keys); other configuration changes need a restart",
               key_file, n);
}

// This instance in the cluster: its name (default the host name) and
// where NVEs reach it, as show cluster prints them.
nvad::ClusterConfig cluster_settings(const nvad::NvadConfig &config) {
  nvad::ClusterConfig out;
  out.name = config.cluster.name;
  if (out.name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    out.name = host;
  }
  for (const auto &address : config.listen.addresses)
    out.advertise += (out.advertise.empty() ? "" : ",") + address.to_string();
  out.advertise += (out.advertise.empty() ? std::string("*") : std::string()) + " port " +
                   std::to_string(config.listen.port);
  out.lease_ttl_s = std::chrono::duration_cast<std::chrono::seconds>(config.cluster.lease_ttl).count();
  return out;
}

void usage(FILE *to) {
  std::fprintf(to,
               "usage: nvad -c <config.yaml> [--check] [--ctl-socket <path>]\n"
               "  -c, --config <file>  configuration (docs/nvad.md)\n"
               "      --ctl-socket <path>  nvectl socket (default /run/nvmove/nvad.sock)\n"
               "      --check          check the configuration and key file, then exit\n"
               "  -h, --help           this text\n");
}

// A listed peer without a key can never authenticate: almost certainly a
// mistake in one of the two files, but not one that stops nvad.
void warn_about_keyless_peers(const nvad::NvadConfig &config, const proto::KeyTable &keys) {
  if (config.policy.peers)
    for (const auto &[peer, policy] : *config.policy.peers)
      if (!keys.sending_key(peer))
        spdlog::warn("peer {} is in the peers list but has no key in {}: it cannot register",
                     peer.to_string(), config.key_file);
  for (const auto &router : config.policy.default_routers)
    if (!keys.sending_key(router.address))
      spdlog::warn("default router {} has no key in {}: it cannot be told of moves", router.address.to_string(),
                   config.key_file);
}

}  // namespace

int main(int argc, char **argv) {
  install_daemon_signals(on_stop_signal);
  std::string config_path;
  bool check_only = false;
  std::string ctl_path = nvmove::ctl::kDefaultNvadSocket;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--ctl-socket" && i + 1 < argc) {
      ctl_path = argv[++i];
    } else if (arg == "--check") {
      check_only = true;
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else if (arg == "-c" || arg == "--config" || arg == "--ctl-socket") {
      std::fprintf(stderr, "nvad: %s needs a value: %s\n", arg.c_str(),
                   arg == "--ctl-socket" ? "the socket path for nvectl" : "the configuration file (docs/nvad.md)");
      usage(stderr);
      return kExitUsage;
    } else {
      std::fprintf(stderr, "nvad: unexpected argument '%s'\n", arg.c_str());
      usage(stderr);
      return kExitUsage;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "nvad: no configuration file: give -c <config.yaml>\n");
    usage(stderr);
    return kExitUsage;
  }

  auto config = nvad::load_config(config_path);
  if (!config) {
    for (const auto &message : config.error().messages) std::fprintf(stderr, "%s\n", message.c_str());
    std::fprintf(stderr, "nvad: %zu error(s) in the configuration; not starting\n",
                 config.error().messages.size());
    return kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));

  auto keys = proto::load_key_file(config->key_file);
  if (!keys) {
    std::fprintf(stderr, "%s\nnvad: bad key file; not starting\n", keys.error().message.c_str());
    return kExitUsage;
  }
  warn_about_keyless_peers(config.value(), keys.value());
  if (check_only) {
    std::printf("%s: configuration and key file (%zu keys) are valid\n", config_path.c_str(), keys->size());
    return 0;
  }

  // The operator's control socket (nvectl -d nvad), served from the loop.
  // Opened first: it is also the single-instance check, so a second nvad
  // stops before it touches the store or the protocol port.
  std::error_code dir_error;
  const auto ctl_dir = std::filesystem::path(ctl_path).parent_path();
  if (!ctl_dir.empty()) std::filesystem::create_directories(ctl_dir, dir_error);
  if (dir_error) {
    spdlog::critical("control socket directory {}: {}", ctl_dir.string(), dir_error.message());
    return kExitRuntime;
  }
  nvmove::ctl::CtlServer ctl(ctl_path, nvmove::ctl::nvad_commands());
  try {
    ctl.open();
  } catch (const std::exception &e) {
    spdlog::critical("{}", e.what());
    return kExitRuntime;
  }
  SystemClock clock;
  // Route optimisation in BGP (export:): the socket ExaBGP's bridge connects
  // to, opened before the store for the same reason as the control socket.
  std::unique_ptr<nvad::ExaBgpExport> exporter;
  std::unique_ptr<nvad::RouteExport> export_policy;
  if (config->route_export.enabled) {
    try {
      const auto dir = std::filesystem::path(config->route_export.socket).parent_path();
      if (!dir.empty()) std::filesystem::create_directories(dir);
      exporter = std::make_unique<nvad::ExaBgpExport>(config->route_export, clock);
    } catch (const std::exception &e) {
      spdlog::critical("{}", e.what());
      return kExitRuntime;
    }
    export_policy = std::make_unique<nvad::RouteExport>(config->route_export);
  }
  // The store: SQLite (alone), or etcd shared with other nvads, one of them
  // elected to serve (docs/nvad.md "nvad on etcd").
  std::unique_ptr<etcd::Client> etcd_client;
  std::unique_ptr<nvad::Cluster> cluster;
  std::unique_ptr<nvad::Store> store;
  if (config->store_backend == nvad::StoreBackend::Etcd) {
    etcd_client = std::make_unique<etcd::Client>(etcd::ClientOptions{
        config->etcd.endpoints, std::chrono::duration_cast<std::chrono::milliseconds>(config->etcd.timeout),
        config->etcd.ca_file, config->etcd.cert_file, config->etcd.key_file});
    auto etcd_store = std::make_unique<nvad::EtcdStore>(*etcd_client, config->etcd.prefix, clock);
    cluster = std::make_unique<nvad::Cluster>(*etcd_client, *etcd_store, cluster_settings(config.value()), clock);
    etcd_store->set_between_requests([c = cluster.get()] { c->renew_if_due(); });
    store = std::move(etcd_store);
    spdlog::info("store: etcd {} under {}; this nvad is '{}' (lease {} s)", config->etcd.endpoints[0],
                 config->etcd.prefix, cluster->status_json().value("name", std::string()),
                 std::chrono::duration_cast<std::chrono::seconds>(config->cluster.lease_ttl).count());
  } else {
    auto sqlite = nvad::open_sqlite_store(config->db_path, clock);
    if (!sqlite) {
      spdlog::critical("{}", sqlite.error().message);
      return kExitRuntime;
    }
    store = std::move(sqlite).value();
  }
  auto server = nvad::Server::start(config.value(), std::move(keys).value(), std::move(store), clock);
  if (!server) {
    spdlog::critical("cannot start: {}", server.error());
    return kExitRuntime;
  }
  g_server.store(server->get(), std::memory_order_release);
  // Unpublished before the server is destroyed, on every return below.
  struct Unpublish {
    ~Unpublish() { g_server.store(nullptr, std::memory_order_release); }
  } unpublish;
  if (g_stop_requested.load(std::memory_order_acquire)) server.value()->request_stop();
  nvad::register_nvad_commands(ctl, *server.value());
  server.value()->set_cluster(cluster.get());
  nvad::register_cluster_commands(ctl, cluster.get(), config.value());
  if (exporter) {
    // Every persisted binding change, and first what the store restored.
    auto feed = [&exporter, &export_policy, &clock, warned = Instant{}](const nvad::BindingKey &key,
                                                                      const nvad::Binding *binding) mutable {
      const auto changes = export_policy->update(key, binding);
      if (changes.empty()) return;
      const auto result = exporter->apply(changes);
      for (const auto &e : result.errors)  // refused: retried at the binding's next change
        if (changes[e.index].op == RouteChange::Op::Upsert) export_policy->not_announced(key, changes[e.index].route.address);
      if (!result.errors.empty() && clock.now() - warned >= std::chrono::seconds(10)) {
        warned = clock.now();
        spdlog::warn("host route {} not exported: {} ({} refused in this change; show exported)",
                     changes[result.errors[0].index].route.address.to_string(), result.errors[0].reason,
                     result.errors.size());
      }
    };
    for (const auto &[key, binding] : server.value()->registrar().cache()) feed(key, &binding);
    server.value()->on_binding_change(feed);
    server.value()->watch(exporter->fd(), [&exporter] { exporter->poll(); });
    nvad::register_export_commands(ctl, *exporter);
    spdlog::info("route export: {} host route(s) of moved VMs for the BGP speaker at {}", exporter->size(),
                 config->route_export.socket);
  }
  const std::string key_file = config->key_file;
  server.value()->watch(ctl.fd(), [&ctl, &server, &key_file] {
    ctl.poll();
    reload_on_hangup(*server.value(), key_file);  // the watch runs every loop pass (at least every 50 ms)
  });
  // Prometheus scrape endpoint (metrics.address/port), served from the loop.
  std::unique_ptr<nvmove::MetricsHttp> metrics_http;
  if (config->metrics.address.family) {
    const uint64_t started = static_cast<uint64_t>(std::time(nullptr));
    try {
      metrics_http = std::make_unique<nvmove::MetricsHttp>(config->metrics, [&server, &exporter, &export_policy,
                                                                            &cluster, started] {
        const auto &registrar = server.value()->registrar();
        return nvad::prometheus_text(registrar.counters(), registrar.cache().size(), started) +
               (exporter ? nvad::export_prometheus_text(*exporter, export_policy->without_next_hop()) : std::string()) +
               (cluster ? nvad::cluster_prometheus_text(*cluster) : std::string());
      });
    } catch (const std::exception &e) {
      spdlog::critical("{}", e.what());
      return kExitRuntime;
    }
    server.value()->watch(metrics_http->fd(), [&metrics_http] { metrics_http->poll(); });
    spdlog::info("metrics: http://{}/metrics", metrics_http->where());
  }
  spdlog::info("control socket {}", ctl_path);
  server.value()->run();
  if (cluster) cluster->resign();  // the standby takes over now, not when the lease runs out
  return 0;
}
