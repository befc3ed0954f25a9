#include "control/nvad/config_loader.h"

#include <unistd.h>

#include <filesystem>

#include <fstream>
#include <sstream>

#include "control/nvad/text_format.h"
#include "control/base/yaml_fields.h"

namespace nvmove::nvad {
namespace {

constexpr uint64_t kMaxLifetimeSeconds = uint64_t{0xffff} * proto::kLifetimeUnitSeconds;

void read_listen(YamlSection listen, ListenConfig &out) {
  if (auto addresses = listen.addresses("addresses")) {
    if (addresses->empty()) listen.errors().add(listen.node()["addresses"], listen.key_path("addresses"),
                                                "list at least one address (\"::\" for all)");
    out.addresses = std::move(*addresses);
  }
  if (auto port = listen.number("port", 0, 65535)) out.port = static_cast<uint16_t>(*port);
  if (auto bytes = listen.number("receive_buffer", 65536, 1u << 28)) out.receive_buffer = static_cast<uint32_t>(*bytes);
  listen.reject_unknown_keys();
}

// A duration the protocol carries in its 16-bit Lifetime field.
std::optional<uint16_t> lifetime_units(YamlSection &section, const std::string &key, Duration value) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(value).count();
  if (value != std::chrono::seconds(seconds) || seconds % proto::kLifetimeUnitSeconds != 0) {
    section.errors().add(section.node()[key], section.key_path(key),
                         "must be a whole multiple of 4 s (the protocol's lifetime unit)");
    return std::nullopt;
  }
  return static_cast<uint16_t>(seconds / proto::kLifetimeUnitSeconds);
}

void read_lifetime(YamlSection lifetime, RegistrationPolicy &out) {
  if (auto max = lifetime.duration("max", 4s, std::chrono::seconds(kMaxLifetimeSeconds)))
    if (auto units = lifetime_units(lifetime, "max", *max)) out.max_lifetime = *units;
  if (auto grace = lifetime.duration("deregistration_grace", 0s, 1h)) out.deregistration_grace = *grace;
  lifetime.reject_unknown_keys();
}

void read_notifications(YamlSection section, RegistrationPolicy &out) {
  auto &timers = out.notifications;
  if (auto initial = section.duration("initial_timeout", 10ms, 1h)) timers.initial_timeout = *initial;
  if (auto max = section.duration("max_timeout", 10ms, 1h)) timers.max_timeout = *max;
  if (auto retries = section.number("retries", 0, 100)) timers.retries = static_cast<unsigned>(*retries);
  if (auto previous = section.number("max_previous_nves", 1, 1024)) out.max_previous_nves = *previous;
  if (auto redirect = section.duration("redirect_lifetime", 4s, std::chrono::seconds(kMaxLifetimeSeconds))) {
    auto units = lifetime_units(section, "redirect_lifetime", *redirect);
    if (units) timers.redirect_lifetime = *units;
  }
  if (timers.max_timeout < timers.initial_timeout)
    section.errors().add(section.node()["max_timeout"], section.key_path("max_timeout"),
                         duration_text(timers.max_timeout) + " is less than initial_timeout " +
                             duration_text(timers.initial_timeout));
  section.reject_unknown_keys();
}

void read_flap_detection(YamlSection section, FlapPolicy &out) {
  if (auto enabled = section.flag("enabled")) out.enabled = *enabled;
  if (auto moves = section.number("max_moves", 1, 1000)) out.max_moves = static_cast<unsigned>(*moves);
  if (auto window = section.duration("window", 1s, 24h)) out.window = *window;
  section.reject_unknown_keys();
}

void read_peers(std::vector<YamlSection> entries, RegistrationPolicy &out) {
  std::map<IpAddress, PeerPolicy> peers;
  for (auto &entry : entries) {
    auto address = entry.address("address");
    if (!entry.has("address"))
      entry.errors().add(entry.node(), entry.key_path("address"), "missing (each peer needs one)");
    PeerPolicy policy;
    if (auto endpoints = entry.addresses("endpoints")) policy.endpoints = std::move(*endpoints);
    if (auto vns = entry.numbers("virtual_networks", 0, 0xffffffff)) policy.virtual_networks = std::move(*vns);
    if (address && !peers.emplace(*address, std::move(policy)).second)
      entry.errors().add(entry.node()["address"], entry.key_path("address"), "peer listed twice");
    entry.reject_unknown_keys();
  }
  out.peers = std::move(peers);
}

// default_routers: which router serves which NVE (seed 003 section 7.2). A
// router is not an NVE (a notification is matched to its recipient by
// address) and serves an NVE at most once over the list.
void read_default_routers(std::vector<YamlSection> entries, RegistrationPolicy &out) {
  std::map<IpAddress, IpAddress> router_of;  // NVE -> the router that serves it
  for (auto &entry : entries) {
    DefaultRouter router;
    bool ok = entry.require("address", "the router's control address (its key is in the key file)") &
              entry.require("serves", "the NVEs (peers[].address) it is the default router of") &
              entry.require("virtual_networks", "the VNs it routes natively");
    auto address = entry.address("address");
    if (auto port = entry.number("port", 1, 65535)) router.port = static_cast<uint16_t>(*port);
    auto serves = entry.addresses("serves");
    auto vns = entry.numbers("virtual_networks", 0, 0xffffff);
    entry.reject_unknown_keys();
    if (!ok || !address || !serves || !vns) continue;
    router.address = *address;
    if (out.peers && out.peers->contains(router.address))
      entry.errors().add(entry.node()["address"], entry.key_path("address"),
                         router.address.to_string() + " is also in peers: a default router cannot be an NVE");
    for (const auto &r : out.default_routers)
      if (r.address == router.address)
        entry.errors().add(entry.node()["address"], entry.key_path("address"), "router listed twice");
    for (const auto &nve : *serves) {
      if (nve == router.address)
        entry.errors().add(entry.node()["serves"], entry.key_path("serves"), "a router cannot serve itself");
      else if (out.peers && !out.peers->contains(nve))
        entry.errors().add(entry.node()["serves"], entry.key_path("serves"),
                           nve.to_string() + " is not in peers (an NVE is named by peers[].address)");
      else if (auto [it, fresh] = router_of.emplace(nve, router.address); !fresh)
        entry.errors().add(entry.node()["serves"], entry.key_path("serves"),
                           nve.to_string() + " already has a default router (" + it->second.to_string() + ")");
      router.serves.insert(nve);
    }
    router.virtual_networks = std::move(*vns);
    out.default_routers.push_back(std::move(router));
  }
}

void read_log(YamlSection log, NvadConfig &out) {
  if (auto level = log.text("level")) {
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
    if (kLevels.contains(*level)) out.log_level = *level;
    else log.errors().add(log.node()["level"], log.key_path("level"),
                          "'" + *level + "' is not one of trace, debug, info, warn, error");
  }
  if (auto interval = log.duration("rejection_interval", 0s, 1h)) out.rejection_log_interval = *interval;
  if (auto interval = log.duration("summary_interval", 1s, 1h)) out.activity_log_interval = *interval;
  log.reject_unknown_keys();
}

// "65001:100" (2 x 16 bits) or, large, "65001:1:100" (3 x 32 bits).
bool community_ok(const std::string &text, int parts) {
  size_t pos = 0;
  for (int i = 0; i < parts; i++) {
    const size_t end = i + 1 < parts ? text.find(':', pos) : text.size();
    if (end == std::string::npos || end == pos) return false;
    const auto n = parse_decimal(text.substr(pos, end - pos), parts == 2 ? 0xffff : 0xffffffffu);
    if (!n) return false;
    pos = end + 1;
  }
  return pos == text.size() + 1;
}

std::vector<std::string> read_communities(YamlSection &section, const std::string &key, int parts) {
  std::vector<std::string> out;
  if (!section.has(key)) return out;
  YAML::Node node = section.at(key);
  if (!node.IsSequence()) {
    section.errors().add(node, section.key_path(key), "expected a list of quoted \"ASN:VALUE\" strings");
    return out;
  }
  for (const auto &item : node) {
    const std::string text = item.IsScalar() ? item.as<std::string>() : "";
    if (community_ok(text, parts)) out.push_back(text);
    else
      section.errors().add(item, section.key_path(key),
                           "'" + text + "' is not a " +
                               (parts == 2 ? "community (\"ASN:VALUE\", each 0..65535)"
                                           : "large community (\"ASN:DATA1:DATA2\", each 0..4294967295)"));
  }
  return out;
}

// The section is there (even empty): export is on, and what it needs is
// required. `peers`: the configured NVEs, which a home NVE must be one of.
void read_export(YamlSection section, const std::optional<std::map<IpAddress, PeerPolicy>> &peers,
                 ExportPolicy &out) {
  out.enabled = true;
  if (section.require("socket", "where ExaBGP's nvmove-exabgp connects"))
    if (auto path = section.text("socket")) out.socket = *path;
  if (auto entries = section.sections("home")) {
    for (auto &entry : *entries) {
      ExportHome home;
      bool ok = entry.require("prefix") & entry.require("nve", "the home NVE's control address (peers[].address)");
      if (auto text = entry.text("prefix")) {
        if (auto prefix = IpPrefix::parse(*text)) home.prefix = *prefix;
        else {
          entry.errors().add(entry.at("prefix"), entry.key_path("prefix"),
                             "'" + *text + "' is not a prefix (10.0.0.0/24, \"fd00::/64\"; bits past the length zero)");
          ok = false;
        }
      }
      if (auto nve = entry.address("nve")) {
        home.nve = *nve;
        if (peers && !peers->contains(*nve)) {
          entry.errors().add(entry.at("nve"), entry.key_path("nve"),
                             nve->to_string() + " is not in peers (a home NVE is one of the NVEs, by peers[].address)");
          ok = false;
        }
      } else {
        ok = false;
      }
      entry.reject_unknown_keys();
      if (ok) out.home.push_back(home);
    }
    if (entries->empty())
      section.errors().add(section.at("home"), section.key_path("home"),
                           "empty: nothing could ever be announced (list each VM prefix and its home NVE)");
  } else {
    section.require("home", "which NVE each VM prefix is routed to without host routes");
  }
  if (auto vns = section.numbers("virtual_networks", 0, 0xffffff)) {
    // Plain unicast BGP keys a route by its prefix alone: two VNs' routes to
    // one address would replace each other at the speaker.
    if (vns->size() == 1) out.virtual_networks = std::move(*vns);
    else
      section.errors().add(section.at("virtual_networks"), section.key_path("virtual_networks"),
                           "exactly one VN (plain IPv4/IPv6 unicast has no room for tenants reusing addresses)");
  }
  out.communities = read_communities(section, "community", 2);
  out.large_communities = read_communities(section, "large_community", 3);
  if (auto max = section.number("max_routes", 1, 10'000'000)) out.max_routes = *max;
  section.reject_unknown_keys();
}

// store.etcd.tls: files that must be there and readable now, not at the
// first connection to etcd; https endpoints only, or they would go unused.
void read_etcd_tls(YamlSection tls, EtcdSettings &out) {
  for (auto [key, field] : {std::pair{"ca_file", &out.ca_file}, std::pair{"cert_file", &out.cert_file},
                            std::pair{"key_file", &out.key_file}}) {
    auto path = tls.text(key);
    if (!path) continue;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*path, ec) || ::access(path->c_str(), R_OK) != 0)
      tls.errors().add(tls.at(key), tls.key_path(key), "'" + *path + "' is not a readable file");
    else *field = *path;
  }
  if (out.cert_file.empty() != out.key_file.empty())
    tls.errors().add(tls.node(), tls.key_path("cert_file"), "cert_file and key_file go together (etcd's --client-cert-auth)");
  for (const auto &url : out.endpoints)
    if (url.rfind("https://", 0) != 0) {
      tls.errors().add(tls.node(), tls.key_path("ca_file"), "'" + url + "' is not https: the TLS files would go unused");
      break;
    }
  tls.reject_unknown_keys();
}

void read_store(YamlSection store, NvadConfig &out) {
  if (auto backend = store.text("backend")) {
    if (*backend == "sqlite") out.store_backend = StoreBackend::Sqlite;
    else if (*backend == "etcd") out.store_backend = StoreBackend::Etcd;
    else store.errors().add(store.at("backend"), store.key_path("backend"), "'" + *backend + "' is not sqlite or etcd");
  }
  YamlSection etcd = store.section("etcd");
  if (auto endpoints = etcd.texts("endpoints")) {
    for (const auto &url : *endpoints)
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        etcd.errors().add(etcd.at("endpoints"), etcd.key_path("endpoints"),
                          "'" + url + "' is not a URL (http://127.0.0.1:2379)");
    out.etcd.endpoints = std::move(*endpoints);
  }
  if (auto prefix = etcd.text("prefix")) {
    if (prefix->empty() || prefix->back() != '/')
      etcd.errors().add(etcd.at("prefix"), etcd.key_path("prefix"), "must end with '/' (/nvmove/nvad/)");
    else out.etcd.prefix = *prefix;
  }
  if (auto timeout = etcd.duration("timeout", 10ms, 60s)) out.etcd.timeout = *timeout;
  if (etcd.has("tls")) read_etcd_tls(etcd.section("tls"), out.etcd);
  etcd.reject_unknown_keys();
  if (out.store_backend == StoreBackend::Etcd && out.etcd.endpoints.empty())
    store.errors().add(store.at("backend"), store.key_path("etcd.endpoints"),
                       "missing (required with backend etcd): the etcd members' client URLs");
  store.reject_unknown_keys();
}

void read_cluster(YamlSection cluster, ClusterSettings &out) {
  if (auto name = cluster.text("name")) out.name = *name;
  // etcd grants at least about 2 s whatever is asked (its election timeout).
  if (auto ttl = cluster.duration("lease_ttl", 2s, 300s)) out.lease_ttl = *ttl;
  cluster.reject_unknown_keys();
}

NvadConfig read_top(YamlSection top) {
  NvadConfig config;
  read_listen(top.section("listen"), config.listen);
  if (auto path = top.text("key_file")) config.key_file = *path;
  if (auto path = top.text("db_path")) config.db_path = *path;
  read_store(top.section("store"), config);
  read_cluster(top.section("cluster"), config.cluster);
  read_lifetime(top.section("lifetime"), config.policy);
  read_notifications(top.section("notifications"), config.policy);
  read_flap_detection(top.section("flap_detection"), config.policy.flap);
  if (auto window = top.duration("timestamp_window", 1ms, 1h))
    config.policy.timestamp_window.half_width = *window;
  if (auto max = top.number("max_bindings", 1, 100'000'000)) config.policy.max_bindings = *max;
  if (auto vns = top.numbers("allowed_virtual_networks", 0, 0xffffffff))
    config.policy.allowed_virtual_networks = std::move(*vns);
  if (auto peers = top.sections("peers")) read_peers(std::move(*peers), config.policy);
  if (auto routers = top.sections("default_routers")) read_default_routers(std::move(*routers), config.policy);
  read_log(top.section("log"), config);
  YamlSection metrics = top.section("metrics");
  config.metrics = read_metrics_config(metrics);
  if (top.has("export")) read_export(top.section("export"), config.policy.peers, config.route_export);
  top.reject_unknown_keys();
  return config;
}

}  // namespace

proto::Result<NvadConfig, ConfigErrors> parse_config(std::string_view text, const std::string &origin) {
  YamlErrors errors(origin);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception &e) {
    errors.add_line(e.mark.line >= 0 ? e.mark.line + 1 : 0, "(syntax)", e.msg);
    return ConfigErrors{errors.all()};
  }
  report_duplicate_keys(root, errors);
  report_extra_documents(std::string(text), errors);
  NvadConfig config;
  try {
    config = read_top(YamlSection(root, "", errors));
  } catch (const YAML::Exception &e) {
    // The readers check types before converting; this is a safety net so
    // that no input, however odd, takes nvad down with an exception.
    errors.add_line(e.mark.line >= 0 ? e.mark.line + 1 : 0, "(structure)", e.msg);
  }
  if (!errors.all().empty()) return ConfigErrors{errors.all()};
  return config;
}

proto::Result<NvadConfig, ConfigErrors> load_config(const std::string &path) {
  std::ifstream file(path);
  if (!file) return ConfigErrors{{path + ": cannot open"}};
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return ConfigErrors{{path + ": cannot read"}};
  return parse_config(text.str(), path);
}

}  // namespace nvmove::nvad
