#include "control/nved/agent_commands.h"

#include <iomanip>
#include <optional>
#include <sstream>

namespace nvmove {

using ctl::Reply;
using Args = std::vector<std::string>;

namespace {

Reply usage(const std::string &s) { return Reply::fail(s, true); }


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
  return r;
}

}  // namespace

void register_agent_commands(ctl::CtlServer &s, agent::NveAgent &ag, const NvedConfig &cfg) {
  for (auto ev : {agent::VmEvent::Associate, agent::VmEvent::Activate, agent::VmEvent::Deactivate,
                  agent::VmEvent::Disassociate})
    s.on(std::string("vm ") + agent::vm_event_name(ev), [&ag, &cfg, ev](const Args &a) { return vm_event(ag, cfg, ev, a); });
  s.on("show vms", [&ag](const Args &) {
    Reply r;
    r.data = ag.vms_json();
    std::ostringstream o;
    o << "VM-ID                 STATE        VN        PORT  MAC                REGISTERED  ADDRESSES\n";
    for (const auto &v : r.data) {
      std::string addrs;
      for (const auto &x : v["addresses"]) addrs += (addrs.empty() ? "" : ",") + x.get<std::string>();
      o << std::left << std::setw(22) << v["vm_id"].get<std::string>() << std::setw(13) << v["state"].get<std::string>()
        << std::setw(10) << v["vn"].get<uint32_t>() << std::setw(6) << v["port"].get<int>() << std::setw(19)
        << v["mac"].get<std::string>() << std::setw(12) << (v["registered"].get<bool>() ? "yes" : "no") << addrs << "\n";
    }
    r.text = o.str();
    return r;
  });
  s.on("show bul", [&ag](const Args &) {
    Reply r;
    r.data = ag.bul_json();
    std::ostringstream o;
    o << "VM-ID                 VN        NEW NVE                                  HITS        IDLE(ms)    EXPIRES IN(ms)  ADDRESSES\n";
    for (const auto &b : r.data) {
      std::string addrs;
      for (const auto &x : b["addresses"]) addrs += (addrs.empty() ? "" : ",") + x.get<std::string>();
      const std::string nve = !b["new_nve_ipv4"].get<std::string>().empty() ? b["new_nve_ipv4"].get<std::string>()
                                                                             : b["new_nve_ipv6"].get<std::string>();
      o << std::left << std::setw(22) << b["vm_id"].get<std::string>() << std::setw(10) << b["vn"].get<uint32_t>()
        << std::setw(41) << nve << std::setw(12) << b["hits"].get<uint64_t>() << std::setw(12)
        << b["idle_ms"].get<uint64_t>() << std::setw(16) << b["expires_in_ms"].get<uint64_t>() << addrs << "\n";
    }
    r.text = o.str();
    return r;
  });
  s.on("show agent", [&ag](const Args &) {
    Reply r;
    r.data = nlohmann::json::object();
    ag.counters().for_each([&](const char *name, const char *, uint64_t value) { r.data[name] = value; });
    std::ostringstream o;
    for (auto it = r.data.begin(); it != r.data.end(); ++it)
      o << std::left << std::setw(26) << it.key() << std::right << std::setw(14) << it.value().get<uint64_t>() << "\n";
    r.text = o.str();
    return r;
  });
}

}  // namespace nvmove
