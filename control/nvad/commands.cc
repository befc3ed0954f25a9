#include "control/nvad/commands.h"

#include <iomanip>
#include <optional>
#include <sstream>

#include "control/protocol/vm_id_text.h"

namespace nvmove::nvad {

using ctl::Reply;
using Args = std::vector<std::string>;
using nlohmann::json;

namespace {

std::string str(const json &j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "-";
  return j.dump();
}

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
  json all = server.bindings_json();
  Reply r;
  r.data = json::array();
  for (const auto &b : all) {
    if (wanted && str(b["vm_id"]) != *wanted) continue;
    r.data.push_back(b);
  }
  if (!a.empty() && r.data.empty()) return Reply::fail("no binding for VM " + a[0]);
  std::ostringstream o;
  o << "VM-ID                 VN        STATE         SERVING NVE                 LIFETIME LEFT(s)  MOVES  PREVIOUS NVEs (notification)\n";
  for (const auto &b : r.data) {
    std::string prev;
    for (const auto &p : b["previous_nves"])
      prev += (prev.empty() ? "" : ", ") + str(p["address"]) + " (" + str(p["notification"]) + ")";
    const auto left = b["expires_in_ms"].get<int64_t>() / 1000;
    o << std::left << std::setw(22) << str(b["vm_id"]) << std::setw(10) << b["virtual_network"].get<uint32_t>()
      << std::setw(14) << str(b["state"]) << std::setw(28) << str(b["serving_nve"]["address"]) << std::setw(18)
      << (left > 0 ? left : 0) << std::setw(7) << b["moves"].get<uint64_t>()
      << (b.value("flapping", false) ? "FLAPPING " : "") << (prev.empty() ? "-" : prev) << "\n";
  }
  r.text = o.str();
  return r;
}

Reply show_peers(Server &server, const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  Reply r;
  r.data = server.peers_json();
  std::ostringstream o;
  o << "PEER                                     KEY   AUTHORIZED  VMS SERVED  PENDING  FAILED\n";
  for (const auto &p : r.data)
    o << std::left << std::setw(41) << str(p["address"]) << std::setw(6) << (p.value("has_key", false) ? "yes" : "no")
      << std::setw(12) << (p.value("authorized", false) ? "yes" : "no") << std::setw(12) << str(p["vms_served"])
      << std::setw(9) << str(p["notifications_pending"]) << str(p["notifications_failed"]) << "\n";
  r.text = o.str();
  return r;
}

void flatten(const json &j, const std::string &prefix, std::ostringstream &o) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string k = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) flatten(*it, k, o);
    else o << std::left << std::setw(48) << k << std::right << std::setw(14) << str(*it) << "\n";
  }
}

Reply show_protocol_stats(Server &server, const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  Reply r;
  r.data = server.protocol_stats_json();
  std::ostringstream o;
  flatten(r.data, "", o);
  r.text = o.str();
  return r;
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
