#include "control/nvad/commands.h"

#include "control/nvad/exabgp_export.h"

#include <optional>

#include "control/nvad/state_json.h"
#include "control/protocol/vm_id_text.h"

namespace nvmove::nvad {

using ctl::Reply;
using Args = std::vector<std::string>;
using nlohmann::json;

namespace {

std::string str(const json &j) { return ctl::Cell::of(j).text(); }

ctl::Table bindings_table() {
  return ctl::Table({{"vm_id", "VM-ID", 22}, {"virtual_network", "VN", 10}, {"state", "STATE", 14},
                     {"", "SERVING NVE", 28}, {"", "LIFETIME LEFT(s)", 18}, {"moves", "MOVES", 7},
                     {"", "PREVIOUS NVEs (notification)"}});
}

void add_binding_row(ctl::Table &t, const json &b) {
  std::string prev;
  for (const auto &p : b["previous_nves"])
    prev += (prev.empty() ? "" : ", ") + str(p["address"]) + (p.value("role", "nve") == "router" ? " router" : "") +
            " (" + str(p["notification"]) + ")";
  const auto left = b["expires_in_ms"].get<int64_t>() / 1000;
  t.add({ctl::Cell::of(b["vm_id"]), ctl::Cell::of(b["virtual_network"]), ctl::Cell::of(b["state"]),
         str(b["serving_nve"]["address"]), left > 0 ? left : 0, ctl::Cell::of(b["moves"]),
         std::string(b.value("flapping", false) ? "FLAPPING " : "") + (prev.empty() ? "-" : prev)})
      .extra = b;
}

// show bindings [VM-ID]: everything in one answer, or one VM in every VN.
// The paged forms nvectl uses for the whole cache (so that nvad's loop
// serves the protocol between pages of a 100,000-binding listing):
//   show bindings first N            the first N, in (VN, VM-ID) order
//   show bindings after VN VM-ID N   the N after that key
// answer a ctl::Reply::page: {"rows": [...], "next": {"vn", "vm_id"} | null},
// or the text with the heading on the first page and "next: ..." last.
Reply show_bindings(Server &server, const Args &a) {
  const bool first = a.size() == 2 && a[0] == "first";
  const bool after = a.size() == 4 && a[0] == "after";
  if (first || after) {
    const auto limit = parse_decimal(a.back(), 100000);
    if (!limit || *limit == 0) return Reply::bad_usage("N: expected 1..100000");
    std::optional<BindingKey> from;
    if (after) {
      const auto vn = parse_decimal(a[1], 0xffffffff);
      const auto id = proto::parse_vm_id(a[2]);
      if (!vn || !id) return Reply::bad_usage("after VN VM-ID N");
      from = BindingKey{static_cast<uint32_t>(*vn), *id};
    }
    std::optional<BindingKey> next;
    ctl::Table t = bindings_table();
    for (const auto &b : server.bindings_page_json(from, *limit, next)) add_binding_row(t, b);
    return Reply::page(std::move(t),
                       next ? json{{"vn", next->virtual_network}, {"vm_id", proto::vm_id_text(next->vm_id)}} : json(),
                       !after);
  }
  if (a.size() > 1) return Reply::bad_usage();
  ctl::Table t = bindings_table();
  if (a.empty()) {
    for (const auto &b : server.bindings_json()) add_binding_row(t, b);
    return Reply::of(std::move(t));
  }
  // VM-IDs have one text form (control/protocol/vm_id_text.h).
  const auto id = proto::parse_vm_id(a[0]);
  if (!id) return Reply::fail("'" + a[0] + "' is not a VM-ID (text, a UUID, or hex:DIGITS)", true);
  for (const auto &[key, binding] : server.registrar().cache())
    if (key.vm_id == *id) add_binding_row(t, binding_json(binding, server.clock()));
  if (t.size() == 0) return Reply::fail("no binding for VM " + a[0]);
  return Reply::of(std::move(t));
}

Reply show_peers(Server &server, const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t({{"address", "PEER", 41}, {"has_key", "KEY", 6}, {"authorized", "AUTHORIZED", 12},
                {"vms_served", "VMS SERVED", 12}, {"notifications_pending", "PENDING", 9},
                {"notifications_failed", "FAILED"}});
  for (const auto &p : server.peers_json())
    t.add({ctl::Cell::of(p["address"]), p.value("has_key", false), p.value("authorized", false),
           ctl::Cell::of(p["vms_served"]), ctl::Cell::of(p["notifications_pending"]),
           ctl::Cell::of(p["notifications_failed"])})
        .extra = p;
  return Reply::of(std::move(t));
}

// The counters as nested JSON, in text one dotted name per line.
void flatten(const json &j, const std::string &prefix, ctl::Record &rec) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string k = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) flatten(*it, k, rec);
    else rec.add(k, ctl::Cell::of(*it));
  }
}

Reply show_protocol_stats(Server &server, const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Record rec(48, 14);
  flatten(server.protocol_stats_json(), "", rec);
  return Reply::of(std::move(rec));
}

// An operator lets a VM that flap detection froze move again (docs/nvad.md).
Reply clear_flap(Server &server, const Args &a) {
  if (a.size() != 1 && !(a.size() == 3 && a[1] == "vn")) return Reply::bad_usage();
  const auto id = proto::parse_vm_id(a[0]);
  if (!id) return Reply::fail("'" + a[0] + "' is not a VM-ID (text, a UUID, or hex:DIGITS)", true);
  uint32_t vn = 0;
  if (a.size() == 3) {
    const auto n = parse_decimal(a[2], 0xffffff);
    if (!n) return Reply::fail("'" + a[2] + "' is not a virtual network number (0..16777215)", true);
    vn = static_cast<uint32_t>(*n);
  }
  if (!server.clear_flap(BindingKey{vn, *id}))
    return Reply::fail("VM " + proto::vm_id_text(*id) + " in VN " + std::to_string(vn) + " is not frozen by flap detection");
  Reply r;
  r.text = "VM " + proto::vm_id_text(*id) + ": flap state cleared; moves accepted again\n";
  return r;
}

}  // namespace

void register_nvad_commands(ctl::CtlServer &ctl, Server &server) {
  ctl.on("show version", [](const Args &) {
    Reply r;
    r.text = std::string("nvad ") + NVMOVE_VERSION + "\n";
    r.data = {{"nvad", NVMOVE_VERSION}};
    return r;
  });
  ctl.on("show bindings", [&server](const Args &a) { return show_bindings(server, a); });
  ctl.on("show peers", [&server](const Args &a) { return show_peers(server, a); });
  ctl.on("show protocol stats", [&server](const Args &a) { return show_protocol_stats(server, a); });
  ctl.on("clear flap", [&server](const Args &a) { return clear_flap(server, a); });
  ctl.on("help", [](const Args &) {
    Reply r;
    r.text = ctl::help_text(ctl::nvad_commands());
    return r;
  });
}

void register_cluster_commands(ctl::CtlServer &ctl, Cluster *cluster, const NvadConfig &config) {
  ctl.on("show cluster", [cluster, db = config.db_path](const Args &a) {
    if (!a.empty()) return Reply::bad_usage();
    Reply r;
    if (!cluster) {
      r.text = "store: sqlite (" + db + "); this nvad runs alone (store.backend etcd for a cluster)\n";
      r.data = {{"backend", "sqlite"}, {"role", "standalone"}, {"db_path", db}};
      return r;
    }
    json s = cluster->status_json();
    s["backend"] = "etcd";
    const json &leader = s["leader"];
    ctl::Record rec(22, 0);
    rec.add("name", ctl::Cell::of(s["name"]));
    rec.add("role", str(s["role"]) + " for " + std::to_string(static_cast<int64_t>(s["role_for_s"].get<double>())) + " s");
    rec.add("leader", leader.is_object() ? str(leader.value("name", json("?"))) + " (" +
                                               str(leader.value("advertise", json(""))) + ")"
                                         : std::string("unknown (etcd unreachable)"));
    rec.add("lease", s["lease_id"].get<std::string>().empty()
                         ? std::string("none")
                         : str(s["lease_id"]) + ", TTL " + str(s["lease_ttl_s"]) + " s");
    rec.add("fence revision", ctl::Cell::of(s["fence_revision"]));
    rec.add("elections won / lost", str(s["elections_won"]) + " / " + str(s["leadership_lost"]));
    rec.add("serving", s["serving"].get<bool>() ? "yes" : "no (requests answered 133 or 130)");
    rec.add("store", "etcd " + str(s["store"]["prefix"]) + ", " + str(s["store"]["skipped_records"]) +
                         " record(s) skipped as damaged");
    if (!s["store"]["healthy"].get<bool>()) rec.add("store error", ctl::Cell::of(s["store"]["error"]));
    if (!s["last_error"].get<std::string>().empty()) rec.add("last error", ctl::Cell::of(s["last_error"]));
    ctl::Table members({{"", "ETCD MEMBER", 28}, {"", "HEALTH", 9}, {"", "ID", 18}, {"", "RAFT LEADER", 8},
                        {"", "INDEX", 10}, {"", "LAG", 6}, {"", "DB(KiB)"}});
    for (const auto &m : s["members"]) {
      if (!m["healthy"].get<bool>()) {
        members.add({ctl::Cell::of(m["endpoint"]), std::string("DOWN"), std::string("-"), std::string("-"),
                     std::string("-"), std::string("-"), std::string("-")});
        continue;
      }
      members.add({ctl::Cell::of(m["endpoint"]), std::string("ok"), ctl::Cell::of(m["member_id"]),
                   std::string(m["is_raft_leader"].get<bool>() ? "yes" : "no"), ctl::Cell::of(m["raft_index"]),
                   ctl::Cell::of(m["lag"]), m["db_size"].get<int64_t>() / 1024});
    }
    r.text = rec.text() + "\n" + members.text();
    r.data = s;
    return r;
  });
}

void register_export_commands(ctl::CtlServer &ctl, const ExaBgpExport &exporter) {
  ctl.on("show exported", [&exporter](const Args &a) {
    if (!a.empty()) return Reply::bad_usage();
    ctl::Table t({{"vn", "VN", 10}, {"prefix", "PREFIX", 45}, {"next_hop", "NEXT HOP", 41}, {"", "SINCE"}});
    const nlohmann::json rows = exporter.json();
    for (const auto &r : rows)
      t.add({ctl::Cell::of(r["vn"]), ctl::Cell::of(r["prefix"]), ctl::Cell::of(r["next_hop"]),
             utc_text(r["since_unix_ns"].get<uint64_t>())});
    const ExportCounters &c = exporter.counters();
    const json counters = {{"announced", c.announced},       {"withdrawn", c.withdrawn},
                           {"acknowledged", c.acknowledged}, {"refused", c.refused},
                           {"over_limit", c.over_limit},     {"speaker_connects", c.speaker_connects},
                           {"speaker_disconnects", c.speaker_disconnects}};
    Reply r;
    r.text = t.text() + std::to_string(exporter.speakers()) + " BGP speaker(s) connected; commands: " +
             std::to_string(c.announced) + " announce, " + std::to_string(c.withdrawn) + " withdraw, " +
             std::to_string(c.acknowledged) + " acknowledged, " + std::to_string(c.refused) + " refused; " +
             std::to_string(c.over_limit) + " over export.max_routes\n";
    r.data = {{"routes", rows}, {"speakers", exporter.speakers()}, {"counters", counters}};
    return r;
  });
}

}  // namespace nvmove::nvad
