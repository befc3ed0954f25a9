#include "control/ctl/command_table.h"

#include <set>
#include <sstream>

namespace nvmove::ctl {

namespace {
constexpr CommandSpec kNved[] = {
    {"show version", "", "nved's version and DPDK's", false},
    {"show config", "", "the configuration file as it was read at start-up", false},
    {"show running-config", "", "the configuration in effect, defaults written out, and route changes since start", false},
    {"show counters", "[worker N]", "every outcome and drop counter (totals, or one worker)", false},
    {"clear counters", "", "start counters (and port statistics) from zero", true},
    {"show ports", "", "ports, roles, MACs, link state, queues", false},
    {"show port stats", "[PORT|all]", "testpmd-style port statistics with throughput since last show (PORT: id or name)", false},
    {"show port xstats", "PORT", "the driver's extended statistics of a port (id or name)", false},
    {"show workers", "", "worker lcores, their queues, packets and idle ratio", false},
    {"show flows", "", "rte_flow rules per port: installed or refused (and why), hits; or the software path", false},
    {"show routes", "[vn N] [ADDRESS] [page CURSOR N] | summary", "host routes: kind, destination, hits, last hit; or counts per VN", false},
    {"show route-table", "", "capacity, routes, memory, table version, last update", false},
    {"show tunnel-peers", "", "NVEs whose tunnels are decapsulated: tunnel.peers and those learnt from nvad", false},
    {"route add", "vn N ADDRESS (local PORT MAC [vlan V] | tunnel NVE)", "add or change a host route", true},
    {"route del", "vn N ADDRESS", "delete a host route", true},
    {"show neighbours", "", "fabric gateways and next hops: addresses and MACs", false},
    {"show metrics", "", "every counter in Prometheus text format", false},
    {"vm associate", "VM-ID port PORT mac MAC addr ADDRESS[,ADDRESS...] [vn N] [vlan V]",
     "split-NVE: reserve a VM interface (RFC 8394 associate)", true},
    {"vm activate", "VM-ID [hot|warm|cold]", "split-NVE: populate forwarding and register with nvad", true},
    {"vm deactivate", "VM-ID", "split-NVE: remove forwarding, keep the association", true},
    {"vm disassociate", "VM-ID", "split-NVE: release the VM interface (de-registers)", true},
    {"show vms", "", "local VMs: lifecycle state, registration", false},
    {"show bul", "", "binding update list: moved VMs tunnelled, with timers", false},
    {"show default-router", "", "default-router role: host routes of moved VMs, next hops, timers", false},
    {"show agent", "", "mobility agent protocol counters", false},
    {"trace add", "PORT N", "trace the next N packets each worker receives on PORT (id or name)", true},
    {"show trace", "", "traced packets: what arrived, the counters it moved, what left", false},
    {"clear trace", "", "stop tracing and forget the records", true},
    {"explain", "vn N ADDRESS", "the route and action the fast path takes for a packet to ADDRESS in VN N", false},
    {"set log level", "trace|debug|info|warn|error", "change the log level", true},
    {"reload", "", "read the configuration file again: apply the agent's key file, report what else changed", true},
    {"help", "", "this list", false},
};

constexpr CommandSpec kNvad[] = {
    {"show version", "", "nvad's version", false},
    {"show bindings", "[VM-ID] | first N | after VN VM-ID N",
     "binding cache: serving NVE, previous NVEs, lifetime left (nvectl pages through it)", false},
    {"show peers", "", "known NVEs: key present, authorized, VMs served, notifications pending/failed", false},
    {"show exported", "", "host routes of moved VMs announced through the BGP speaker (export:), and its state", false},
    {"show protocol stats", "", "messages, retransmissions, rejections by status", false},
    {"show cluster", "", "store backend; on etcd: this nvad's role, the leader, the lease, each etcd member's health and lag", false},
    {"clear flap", "VM-ID [vn N]", "let a VM frozen by flap detection move again", true},
    {"help", "", "this list", false},
};

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}
}  // namespace

std::span<const CommandSpec> nved_commands() { return kNved; }
std::span<const CommandSpec> nvad_commands() { return kNvad; }

namespace {
bool abbreviates(const std::string &typed, const std::string &word) {
  return !typed.empty() && word.compare(0, typed.size(), typed) == 0;
}
}  // namespace

const CommandSpec *match_command(std::span<const CommandSpec> table, const std::vector<std::string> &argv,
                                 size_t &nwords, std::vector<const CommandSpec *> *ambiguous) {
  // Best: the most command words taken, then the most of them typed in full.
  std::vector<const CommandSpec *> best;
  size_t best_words = 0, best_exact = 0;
  for (const auto &c : table) {
    const auto words = split(c.words);
    if (words.size() > argv.size() || words.size() < best_words) continue;
    size_t exact = 0;
    bool ok = true;
    for (size_t i = 0; i < words.size() && ok; i++) {
      ok = abbreviates(argv[i], words[i]);
      exact += argv[i] == words[i];
    }
    if (!ok) continue;
    if (words.size() > best_words || exact > best_exact) {
      best.clear();
      best_words = words.size();
      best_exact = exact;
    } else if (exact < best_exact) {
      continue;
    }
    best.push_back(&c);
  }
  nwords = best.size() == 1 ? best_words : 0;
  if (best.size() > 1 && ambiguous) *ambiguous = best;
  return best.size() == 1 ? best.front() : nullptr;
}

std::string help_for(std::span<const CommandSpec> table, const std::vector<std::string> &typed) {
  std::vector<CommandSpec> fitting;
  for (const auto &c : table) {
    const auto words = split(c.words);
    bool ok = true;
    for (size_t i = 0; i < typed.size() && ok; i++) ok = i < words.size() && abbreviates(typed[i], words[i]);
    if (ok) fitting.push_back(c);
  }
  return help_text(fitting);
}

std::vector<std::string> complete(std::span<const CommandSpec> table, const std::vector<std::string> &typed,
                                  const std::string &partial) {
  std::set<std::string> out;
  for (const auto &c : table) {
    const auto words = split(c.words);
    if (words.size() <= typed.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < typed.size() && ok; i++) ok = words[i] == typed[i];
    if (ok && words[typed.size()].rfind(partial, 0) == 0) out.insert(words[typed.size()]);
  }
  return {out.begin(), out.end()};
}

std::string help_text(std::span<const CommandSpec> table) {
  std::ostringstream o;
  for (const auto &c : table) {
    std::string left(c.words);
    if (!c.usage.empty()) {
      left += ' ';
      left.append(c.usage);
    }
    o << "  " << left;
    o << std::string(left.size() < 58 ? 58 - left.size() : 1, ' ') << c.help << "\n";
  }
  return o.str();
}

std::string usage_line(const CommandSpec &spec) {
  std::string line = "usage: " + std::string(spec.words);
  if (!spec.usage.empty()) line += " " + std::string(spec.usage);
  return line;
}

}  // namespace nvmove::ctl
