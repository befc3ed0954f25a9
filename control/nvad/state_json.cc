#include "control/nvad/state_json.h"

#include <algorithm>
#include <map>

#include "control/nvad/text_format.h"
#include "control/protocol/names.h"

namespace nvmove::nvad {
namespace {

using nlohmann::json;

int64_t ms_from_now(Instant when, const Clock &clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - clock.now()).count();
}

json nve_json(const NveRef &nve) {
  return {{"address", nve.control.to_string()}, {"port", nve.port}, {"endpoints", endpoints_text(nve.endpoints)}};
}

json previous_json(const PreviousNve &previous, const Clock &clock) {
  json out = nve_json(previous.nve);
  out["role"] = previous_role_name(previous.role);
  out["redirect_expires_in_ms"] = std::max<int64_t>(ms_from_now(previous.redirect_until, clock), 0);
  out["notification"] = notification_state_name(previous.state);
  out["retries"] = previous.retries;
  if (previous.state == NotificationState::Pending)
    out["next_retransmit_in_ms"] = ms_from_now(previous.next_retransmit, clock);
  if (previous.rejected_with) out["rejected_with"] = proto::status_name(*previous.rejected_with);
  return out;
}

struct PeerSummary {
  bool listed = false;
  bool router = false;  // a default router: told of moves, registers nothing
  size_t serving = 0;
  size_t pending = 0;
  size_t failed = 0;
};

}  // namespace

json binding_json(const Binding &b, const Clock &clock) {
  json previous = json::array();
  for (const auto &p : b.previous) previous.push_back(previous_json(p, clock));
  json registering = json::array();
  for (const auto &[peer, stamp] : b.last_requests)
    registering.push_back({{"address", peer.to_string()},
                           {"last_sequence", stamp.sequence},
                           {"last_timestamp_ns", stamp.timestamp_ns}});
  json out = {
      {"vm_id", vm_id_text(b.vm_id)},
      {"virtual_network", b.virtual_network},
      {"mac", mac_to_string(b.mac)},
      {"addresses", addresses_text(b.addresses)},
      {"state", binding_state_name(b.state)},
      {"serving_nve", nve_json(b.serving)},
      {"previous_nves", std::move(previous)},
      {"registering_nves", std::move(registering)},
      {"granted_lifetime_s", proto::lifetime_seconds(b.granted_lifetime)},
      {"expires_in_ms", ms_from_now(b.expires_at, clock)},
      {"last_move_mode", proto::mobility_mode_name(b.last_move_mode)},
      {"moves", b.move_count},
      {"recent_moves", b.recent_moves.size()},
      {"flapping", b.flapping},
  };
  if (b.flap_detected_at) out["flap_detected_ms_ago"] = -ms_from_now(*b.flap_detected_at, clock);
  return out;
}

json bindings_json(const BindingCache &cache, const Clock &clock) {
  json out = json::array();
  for (const auto &[key, binding] : cache) out.push_back(binding_json(binding, clock));
  return out;
}

json bindings_page_json(const BindingCache &cache, const Clock &clock, const std::optional<BindingKey> &after,
                        size_t limit, std::optional<BindingKey> &next) {
  json out = json::array();
  next.reset();
  for (auto it = after ? cache.upper_bound(*after) : cache.begin(); it != cache.end(); ++it) {
    if (out.size() == limit) {
      next = std::prev(it)->first;
      break;
    }
    out.push_back(binding_json(it->second, clock));
  }
  return out;
}

json peers_json(const Registrar &registrar, const proto::KeyTable *keys) {
  std::map<IpAddress, PeerSummary> peers;
  if (const auto &listed = registrar.policy().peers)
    for (const auto &[address, policy] : *listed) peers[address].listed = true;
  for (const auto &router : registrar.policy().default_routers) peers[router.address].router = true;
  for (const auto &[address, state] : registrar.peers().all()) peers[address];
  for (const auto &[key, binding] : registrar.cache()) {
    peers[binding.serving.control].serving++;
    for (const auto &p : binding.previous) {
      if (p.state == NotificationState::Pending) peers[p.nve.control].pending++;
      if (p.state == NotificationState::Failed) peers[p.nve.control].failed++;
    }
  }
  json out = json::array();
  for (auto &[address, summary] : peers) {
    const PeerState *state = registrar.peers().find(address);
    bool has_key = keys && keys->sending_key(address) != nullptr;
    // Without a peers list, every peer with a key may register (a default
    // router: be notified).
    bool authorized = has_key && (summary.router || !registrar.policy().peers || summary.listed);
    json entry = {
        {"address", address.to_string()},
        {"role", summary.router ? "router" : "nve"},
        {"has_key", has_key},
        {"authorized", authorized},
        {"vms_served", summary.serving},
        {"notifications_pending", summary.pending},
        {"notifications_failed", summary.failed},
    };
    if (state) {
      entry["port"] = state->port;
      entry["next_sequence_sent"] = state->next_sequence;
      if (auto last = state->received.last_sequence()) entry["last_sequence_received"] = *last;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

json protocol_stats_json(const Registrar &registrar) {
  json out = counters_json(registrar.counters());
  out["bindings"] = registrar.cache().size();
  return out;
}

}  // namespace nvmove::nvad
