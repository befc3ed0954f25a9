#include "control/nved/agent_commands.h"

#include <algorithm>
#include <optional>
#include <sstream>

namespace nvmove {

using ctl::Reply;
using Args = std::vector<std::string>;

namespace {

Reply usage(const std::string &s) { return Reply::fail(s, true); }

// A VM's addresses: a JSON array, "a,b" in text.
ctl::Cell addresses_cell(const nlohmann::json &addresses) {
  std::string text;
  for (const auto &x : addresses) text += (text.empty() ? "" : ",") + x.get<std::string>();
  return ctl::Cell::shown_as(addresses, text);
}


// vm associate ID port PORT mac MAC addr A[,B...] [vn N] [vlan V]
Reply vm_event(agent::NveAgent &ag, const NvedConfig &cfg, agent::VmEvent ev, const Args &a) {
  if (a.empty()) return Reply::bad_usage();
  agent::VmSpec spec;
  const auto id = proto::parse_vm_id(a[0]);
  if (!id)
    return Reply::bad_usage("'" + a[0] +
                            "' is not a VM-ID (printable text without spaces, a UUID, or hex:DIGITS; at most 253 bytes)");
  spec.id = *id;
  proto::MobilityMode mode = proto::MobilityMode::Hot;
  if (ev == agent::VmEvent::Associate) {
    std::optional<uint32_t> vn;
    std::optional<uint16_t> vlan;
    const PortConfig *port = nullptr;
    for (size_t i = 1; i < a.size(); i += 2) {
      if (i + 1 >= a.size()) return Reply::bad_usage();
      const std::string &k = a[i], &v = a[i + 1];
      if (k == "port") {
        port = cfg.port_by_name(v);
        if (!port || port->role != PortConfig::Role::Access) return usage("no access port named '" + v + "'");
      } else if (k == "mac") {
        auto m = parse_mac(v);
        if (!m || ((*m)[0] & 1)) return usage("'" + v + "' is not a unicast MAC address");
        spec.mac = *m;
      } else if (k == "addr") {
        std::stringstream ss(v);
        std::string item;
        while (std::getline(ss, item, ',')) {
          auto ip = IpAddress::parse(item);
          if (!ip) return usage("'" + item + "' is not an IPv4 or IPv6 address");
          if (auto why = not_a_host_address(*ip)) return usage("'" + item + "' is " + *why + ", not a VM's address");
          spec.addresses.push_back(*ip);
        }
      } else if (k == "vn") {
        auto n = parse_decimal(v, 0xffffff);
        if (!n) return usage("vn: expected a number 0..16777215, got '" + v + "'");
        vn = static_cast<uint32_t>(*n);
      } else if (k == "vlan") {
        auto n = parse_decimal(v, 4094);
        if (!n) return usage("vlan: expected a number 0..4094, got '" + v + "'");
        vlan = static_cast<uint16_t>(*n);
      } else {
        return Reply::bad_usage();
      }
    }
    if (!port || spec.addresses.empty() || spec.mac == MacAddress{}) return Reply::bad_usage();
    spec.port = port->port_id;
    spec.vn = vn.value_or(port->vn);
    spec.vlan = vlan.value_or(port->vlan);
    // A static VM of the configuration owns its routes: an agent VM at the
    // same address would replace them and take them away on deactivate.
    for (const auto &v : cfg.local_vms) {
      const PortConfig *p = cfg.port_by_name(v.port);
      if (!p || v.vn.value_or(p->vn) != spec.vn) continue;
      for (const auto &addr : spec.addresses)
        if (std::find(v.addresses.begin(), v.addresses.end(), addr) != v.addresses.end())
          return Reply::fail("vm " + a[0] + ": address " + addr.to_string() + " in VN " + std::to_string(spec.vn) +
                             " is a static VM of the configuration (local_vms)");
    }
    for (const auto &addr : spec.addresses)
      if (spec.vn == cfg.fabric_vn && cfg.vn_of_endpoint(addr))
        return Reply::fail("vm " + a[0] + ": " + addr.to_string() + " is one of this NVE's tunnel endpoints");
  } else if (ev == agent::VmEvent::Activate && a.size() == 2) {
    if (a[1] == "hot") mode = proto::MobilityMode::Hot;
    else if (a[1] == "warm") mode = proto::MobilityMode::Warm;
    else if (a[1] == "cold") mode = proto::MobilityMode::Cold;
    else return Reply::bad_usage();
  } else if (a.size() != 1) {
    return Reply::bad_usage();
  }
  if (auto err = ag.vm_event(ev, spec, mode)) return Reply::fail("vm " + a[0] + ": " + *err);
  Reply r;
  r.text = "vm " + a[0] + ": " + agent::vm_event_name(ev) + " done" +
           (ev == agent::VmEvent::Activate ? " (forwarding installed; the registration with nvad follows: show vms)" : "") +
           "\n";
  // The VM-ID as show vms spells it: nvectl waits there for nvad's answer.
  r.data = {{"vm_id", proto::vm_id_text(spec.id)}, {"event", agent::vm_event_name(ev)}};
  return r;
}

}  // namespace

void register_agent_commands(ctl::CtlServer &s, agent::NveAgent &ag, const NvedConfig &cfg) {
  for (auto ev : {agent::VmEvent::Associate, agent::VmEvent::Activate, agent::VmEvent::Deactivate,
                  agent::VmEvent::Disassociate})
    s.on(std::string("vm ") + agent::vm_event_name(ev), [&ag, &cfg, ev](const Args &a) { return vm_event(ag, cfg, ev, a); });
  s.on("show vms", [&ag](const Args &) {
    ctl::Table t({{"vm_id", "VM-ID", 22}, {"state", "STATE", 13}, {"vn", "VN", 10}, {"port", "PORT", 6},
                  {"mac", "MAC", 19}, {"registered", "REGISTERED", 12}, {"addresses", "ADDRESSES"}});
    for (const auto &v : ag.vms_json())
      t.add({ctl::Cell::of(v["vm_id"]), ctl::Cell::of(v["state"]), ctl::Cell::of(v["vn"]), ctl::Cell::of(v["port"]),
             ctl::Cell::of(v["mac"]), ctl::Cell::of(v["registered"]), addresses_cell(v["addresses"])})
          .extra = v;
    return Reply::of(std::move(t));
  });
  s.on("show bul", [&ag](const Args &) {
    ctl::Table t({{"vm_id", "VM-ID", 22}, {"vn", "VN", 10}, {"", "NEW NVE", 41}, {"hits", "HITS", 12},
                  {"idle_ms", "IDLE(ms)", 12}, {"expires_in_ms", "EXPIRES IN(ms)", 16}, {"addresses", "ADDRESSES"}});
    for (const auto &b : ag.bul_json()) {
      const std::string v4 = b["new_nve_ipv4"].get<std::string>();
      t.add({ctl::Cell::of(b["vm_id"]), ctl::Cell::of(b["vn"]), v4.empty() ? b["new_nve_ipv6"].get<std::string>() : v4,
             ctl::Cell::of(b["hits"]), ctl::Cell::of(b["idle_ms"]), ctl::Cell::of(b["expires_in_ms"]),
             addresses_cell(b["addresses"])})
          .extra = b;
    }
    return Reply::of(std::move(t));
  });
  s.on("show default-router", [&ag](const Args &) {
    ctl::Table t({{"vm_id", "VM-ID", 22}, {"vn", "VN", 10}, {"address", "ADDRESS", 41},
                  {"next_hop", "NEXT HOP", 41}, {"next_hop_mac", "MAC", 19}, {"hits", "HITS", 12},
                  {"idle_ms", "IDLE(ms)", 12}, {"state", "STATE"}});
    for (const auto &r : ag.router_routes_json())
      t.add({ctl::Cell::of(r["vm_id"]), ctl::Cell::of(r["vn"]), ctl::Cell::of(r["address"]),
             ctl::Cell::of(r["next_hop"]), ctl::Cell::of(r["next_hop_mac"]), ctl::Cell::of(r["hits"]),
             ctl::Cell::of(r["idle_ms"]), ctl::Cell::of(r["state"])})
          .extra = r;
    return Reply::of(std::move(t));
  });
  s.on("show agent", [&ag](const Args &) {
    ctl::Record rec(26, 14);
    rec.add("nvad", ag.current_nvad().to_string());  // of agent.nvad: the one that last answered
    ag.counters().for_each([&](const char *name, const char *, uint64_t value) { rec.add(name, value); });
    return Reply::of(std::move(rec));
  });
}

}  // namespace nvmove
