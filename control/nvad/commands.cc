#include "control/nvad/commands.h"

#include <optional>

#include "control/protocol/vm_id_text.h"

namespace nvmove::nvad {

using ctl::Reply;
using Args = std::vector<std::string>;
using nlohmann::json;

namespace {

std::string str(const json &j) { return ctl::Cell::of(j).text(); }

Reply show_bindings(Server &server, const Args &a) {
  if (a.size() > 1) return Reply::bad_usage();
  // VM-IDs have one text form (control/protocol/vm_id_text.h): compare the
  // canonical spelling of what the operator typed.
  std::optional<std::string> wanted;
  if (!a.empty()) {
    const auto id = proto::parse_vm_id(a[0]);
    if (!id) return Reply::fail("'" + a[0] + "' is not a VM-ID (text, a UUID, or hex:DIGITS)", true);
    wanted = proto::vm_id_text(*id);
  }
  ctl::Table t({{"vm_id", "VM-ID", 22}, {"virtual_network", "VN", 10}, {"state", "STATE", 14},
                {"", "SERVING NVE", 28}, {"", "LIFETIME LEFT(s)", 18}, {"moves", "MOVES", 7},
                {"", "PREVIOUS NVEs (notification)"}});
  for (const auto &b : server.bindings_json()) {
    if (wanted && str(b["vm_id"]) != *wanted) continue;
    std::string prev;
    for (const auto &p : b["previous_nves"])
      prev += (prev.empty() ? "" : ", ") + str(p["address"]) + " (" + str(p["notification"]) + ")";
    const auto left = b["expires_in_ms"].get<int64_t>() / 1000;
    t.add({ctl::Cell::of(b["vm_id"]), ctl::Cell::of(b["virtual_network"]), ctl::Cell::of(b["state"]),
           str(b["serving_nve"]["address"]), left > 0 ? left : 0, ctl::Cell::of(b["moves"]),
           std::string(b.value("flapping", false) ? "FLAPPING " : "") + (prev.empty() ? "-" : prev)})
        .extra = b;
  }
  if (!a.empty() && t.size() == 0) return Reply::fail("no binding for VM " + a[0]);
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

}  // namespace nvmove::nvad
