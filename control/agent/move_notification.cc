// Move notifications from nvad: a VM this NVE served (or tunnelled for) now
// lives behind another NVE. Packets in flight follow it through a tunnel
// until they stop coming (binding update list entry).
#include <spdlog/spdlog.h>

#include "control/agent/nve_agent.h"
#include "control/protocol/codec.h"
#include "control/protocol/mandatory_options.h"
#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"

namespace nvmove::agent {

void NveAgent::reply_to_nvad(const proto::Message &reply, const IpAddress &to, uint16_t port) {
  const proto::AuthKey *key = keys_.sending_key(to);
  if (!key) return;
  auto wire = proto::encode(reply, *key);
  if (wire) net_.send(to, port, wire.value());
}

std::optional<IpAddress> NveAgent::tunnel_endpoint(const IpAddress &vm_addr, const proto::NveAddresses &nve) const {
  // Same family as the VM address when the NVE has one (no cross-family
  // overhead), else the other: the dataplane does 4-in-6 and 6-in-4.
  const auto &same = vm_addr.is_v4() ? nve.ipv4 : nve.ipv6;
  const auto &other = vm_addr.is_v4() ? nve.ipv6 : nve.ipv4;
  const auto &ours = vm_addr.is_v4() ? cfg_.self.ipv4 : cfg_.self.ipv6;
  const auto &ours_other = vm_addr.is_v4() ? cfg_.self.ipv6 : cfg_.self.ipv4;
  if (same && ours) return same;
  if (other && ours_other) return other;
  if (same && ours_other) return same;  // cross family needs our address of the NVE's family
  if (other && ours) return other;
  return std::nullopt;
}

void NveAgent::on_notification(const proto::Message &m, const IpAddress &from, uint16_t from_port) {
  const uint64_t now_ns = clock_.wall_ns();
  auto reject = [&](proto::Status s, const std::string &why) {
    counters_.notifications_rejected++;
    warn_limited(from, proto::status_name(s),
                 "move notification from " + from.to_string() + " rejected: " + proto::status_name(s) + " (" + why + ")");
    reply_to_nvad(proto::make_reply(m, s, 0), from, from_port);
  };
  if (!m.timestamp_ns) return reject(proto::Status::MissingMandatoryOption, "no timestamp");
  const auto verdict = replay_.check(from, m.sequence, *m.timestamp_ns, now_ns);
  if (verdict == proto::ReplayVerdict::Duplicate) return;  // answered already
  if (verdict == proto::ReplayVerdict::SequenceNotNewer) {
    counters_.notifications_rejected++;
    reply_to_nvad(proto::make_bad_sequence_reply(m, replay_.expected_sequence(from).value_or(0)), from, from_port);
    return;
  }
  if (auto status = proto::rejection_status(verdict)) return reject(*status, proto::replay_verdict_name(verdict));
  replay_.record(from, m.sequence, *m.timestamp_ns);
  if (auto missing = proto::find_missing_option(m)) return reject(proto::Status::MissingMandatoryOption, missing->reason);
  if (m.serving_nve.empty() || m.vm_addresses.empty())
    return reject(proto::Status::MissingMandatoryOption, "no serving NVE or VM address");

  const proto::VmId id = *m.vm_id;
  const uint32_t vn = m.virtual_network.value_or(0);
  const bool to_us = (m.serving_nve.ipv4 && m.serving_nve.ipv4 == cfg_.self.ipv4) ||
                     (m.serving_nve.ipv6 && m.serving_nve.ipv6 == cfg_.self.ipv6);
  if (to_us) {
    // The VM is (back) here: its local route serves; nothing to tunnel.
    counters_.notifications_accepted++;
    reply_to_nvad(proto::make_reply(m, proto::Status::Accepted, m.lifetime), from, from_port);
    return;
  }

  if (m.mobility == proto::MobilityMode::Cold || m.lifetime == 0) {
    // Cold move (nothing in flight) or the binding ended: forget the VM.
    remove_routes(vn, m.vm_addresses);
    bul_.erase(id);
    spdlog::info("vm {}: moved (cold) to another NVE: routes removed", vm_id_text(id));
  } else {
    std::vector<RouteChange> batch;
    for (const auto &a : m.vm_addresses) {
      auto ep = tunnel_endpoint(a, m.serving_nve);
      if (!ep) return reject(proto::Status::Unspecified, "no usable tunnel endpoint for " + a.to_string());
      RouteChange c;
      c.route = {vn, a};
      c.action = TunnelToNve{*ep};
      batch.push_back(c);
    }
    const auto res = routes_.apply(batch);
    if (!res.errors.empty()) {
      // All or nothing: a tunnel without a binding update list entry would
      // never expire, so take back the changes that did apply.
      std::vector<RouteChange> undo;
      for (size_t i = 0; i < batch.size(); i++) {
        bool failed = false;
        for (const auto &e : res.errors) failed = failed || e.index == i;
        if (failed) continue;
        RouteChange c;
        c.op = RouteChange::Op::Remove;
        c.route = batch[i].route;
        undo.push_back(c);
      }
      if (!undo.empty()) routes_.apply(undo);
      return reject(proto::Status::InsufficientResources, res.errors[0].reason);
    }
    const uint64_t now = clock_.now_ms();
    BulEntry b{id, vn, m.vm_addresses, m.serving_nve, now,
               now + uint64_t{proto::lifetime_seconds(m.lifetime)} * 1000, now, 0};
    for (const auto &a : m.vm_addresses)
      if (auto v = routes_.find({vn, a})) b.last_hits += v->hits;
    bul_[id] = b;
    spdlog::info("vm {}: moved to {}: tunnelling packets in flight (table version {})", vm_id_text(id),
                 (m.serving_nve.ipv4 ? m.serving_nve.ipv4 : m.serving_nve.ipv6)->to_string(), res.table_version);
  }
  if (auto it = vms_.find(id); it != vms_.end() && it->second.state == VmState::Activated)
    spdlog::warn("vm {}: nvad says it moved but it is still activated here", vm_id_text(id));
  counters_.notifications_accepted++;
  reply_to_nvad(proto::make_reply(m, proto::Status::Accepted, m.lifetime), from, from_port);
}

void NveAgent::expire_bul(uint64_t now) {
  for (auto it = bul_.begin(); it != bul_.end();) {
    BulEntry &b = it->second;
    uint64_t hits = 0;
    for (const auto &a : b.addresses)
      if (auto v = routes_.find({b.vn, a}); v && std::holds_alternative<TunnelToNve>(v->action)) hits += v->hits;
    if (hits != b.last_hits) {
      b.last_hits = hits;
      b.last_activity_ms = now;
    }
    const bool idle = now - b.last_activity_ms >= cfg_.bul_idle_ms;
    const bool expired = now >= b.expires_ms;
    if (!idle && !expired) {
      ++it;
      continue;
    }
    (idle ? counters_.bul_idle_expired : counters_.bul_lifetime_expired)++;
    std::vector<RouteChange> batch;
    for (const auto &a : b.addresses) {
      auto v = routes_.find({b.vn, a});
      if (!v || !std::holds_alternative<TunnelToNve>(v->action)) continue;  // replaced meanwhile
      RouteChange c;
      c.op = RouteChange::Op::Remove;
      c.route = {b.vn, a};
      batch.push_back(c);
    }
    if (!batch.empty()) routes_.apply(batch);
    spdlog::info("vm {}: tunnel removed ({})", vm_id_text(it->first), idle ? "no traffic" : "lifetime ended");
    it = bul_.erase(it);
  }
}

}  // namespace nvmove::agent
