#include "control/nvad/cluster.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace nvmove::nvad {
namespace {

using nlohmann::json;

std::string hex_id(uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return text;
}

double seconds_since(Instant when, Instant now) {
  return std::chrono::duration<double>(now - when).count();
}

}  // namespace

const char *Cluster::role_name(Role role) {
  switch (role) {
    case Role::Standby: return "standby";
    case Role::Leader: return "leader";
    case Role::Unavailable: return "unavailable";
  }
  return "unavailable";
}

Cluster::Cluster(etcd::Client &client, EtcdStore &store, ClusterConfig config, const Clock &clock)
    : client_(client),
      store_(store),
      config_(std::move(config)),
      clock_(clock),
      leader_key_(store.prefix() + "leader"),
      role_since_(clock.now()) {}

Duration Cluster::tick_interval() const {
  // The leader renews three times per TTL; the others look for a vacant
  // key at least every second, so a takeover follows the lease's expiry.
  const Duration third = std::chrono::milliseconds(config_.lease_ttl_s * 1000 / 3);
  return role_ == Role::Leader ? third : std::min<Duration>(third, std::chrono::seconds(1));
}

std::optional<Cluster::Change> Cluster::tick() {
  if (deferred_) return std::exchange(deferred_, std::nullopt);
  const Instant now = clock_.now();
  if (now < next_tick_) return std::nullopt;
  auto change = role_ == Role::Leader ? renew() : campaign();
  next_tick_ = clock_.now() + tick_interval();
  return change;
}

void Cluster::renew_if_due() {
  if (role_ != Role::Leader || deferred_ || clock_.now() < next_tick_) return;
  deferred_ = renew();
  next_tick_ = clock_.now() + tick_interval();
}

std::optional<Cluster::Change> Cluster::become(Role role, const std::string &why) {
  if (role == role_) return std::nullopt;
  Change change{role_, role, why};
  if (role_ == Role::Leader) {
    leadership_lost_++;
    // A revision no key has: any write still under way (a large batch
    // renews the lease between its transactions) is refused, never made
    // without a fence.
    store_.set_fence(std::make_pair(leader_key_, int64_t{-1}));
  }
  if (role == Role::Leader) elections_won_++;
  role_ = role;
  role_since_ = clock_.now();
  return change;
}

std::optional<Cluster::Change> Cluster::campaign() {
  // Who leads, if anyone: a standby asks only this, and holds no lease.
  auto current = client_.range(leader_key_);
  if (!current) {
    last_error_ = current.error().message;
    return become(Role::Unavailable, "etcd unreachable: " + last_error_);
  }
  last_error_.clear();
  if (!current->kvs.empty()) return follow(current->kvs[0]);
  // Vacant: a fresh lease, and the key created only if still absent.
  auto lease = client_.lease_grant(config_.lease_ttl_s);
  if (!lease) {
    last_error_ = lease.error().message;
    return become(Role::Unavailable, "etcd: " + last_error_);
  }
  lease_ = lease->id;
  const json me = {{"name", config_.name}, {"advertise", config_.advertise}, {"since_ns", clock_.wall_ns()}};
  const etcd::Compare vacant{leader_key_, etcd::Compare::Target::Create, etcd::Compare::Result::Equal, 0, {}};
  const etcd::Op claim = etcd::Put{leader_key_, me.dump(), lease_};
  const etcd::Op read = etcd::Get{leader_key_, {}};
  auto result = client_.txn(std::span(&vacant, 1), std::span(&claim, 1), std::span(&read, 1));
  if (!result) {
    last_error_ = result.error().message;
    return become(Role::Unavailable, "etcd: " + last_error_);
  }
  if (!result->succeeded) {  // another standby was quicker
    if (result->gets.empty() || result->gets[0].kvs.empty()) return std::nullopt;  // and gone again: next tick
    return follow(result->gets[0].kvs[0]);
  }
  leader_ = me;
  return lead(result->revision, "elected");
}

std::optional<Cluster::Change> Cluster::follow(const etcd::KeyValue &leader) {
  // The key is on our lease: a claim whose answer we never got, or the key
  // we held when etcd went quiet for longer than the TTL. etcd did not expire
  // the lease (a raft election extends every lease): if it still renews, no
  // other instance can have led meanwhile (the key never went vacant), so
  // this one leads again at once instead of leaving the cluster without a
  // leader until its own key expires.
  if (lease_ != 0 && leader.lease == lease_) {
    auto ttl = client_.lease_keepalive(lease_);
    if (!ttl) {
      last_error_ = ttl.error().message;
      return become(Role::Unavailable, "etcd: " + last_error_);
    }
    if (ttl.value() > 0) return lead(leader.create_revision, "the leader key is on its lease");
    // It expired between the read and the renewal, and the key with it:
    // vacant, so campaign now rather than follow our own ghost.
    lease_ = 0;
    return campaign();
  }
  if (lease_ != 0) client_.lease_revoke(lease_);  // a campaign lost: its lease would only expire
  lease_ = 0;
  // Any value is possible under the prefix (another version, etcdctl put):
  // read, never trusted to have the fields' types.
  leader_ = json::parse(leader.value, nullptr, false);
  if (!leader_.is_object()) leader_ = {{"name", leader.value}};
  const auto name = leader_.find("name");
  return become(Role::Standby,
                "the leader is " + (name != leader_.end() && name->is_string() ? name->get<std::string>() : "?"));
}

std::optional<Cluster::Change> Cluster::lead(int64_t fence, const char *how) {
  fence_revision_ = fence;
  renewed_at_ = clock_.now();
  store_.set_fence(std::make_pair(leader_key_, fence));
  return become(Role::Leader, std::string(how) + " (lease " + hex_id(static_cast<uint64_t>(lease_)) +
                                  ", fence revision " + std::to_string(fence) + ")");
}

std::optional<Cluster::Change> Cluster::renew() {
  auto ttl = client_.lease_keepalive(lease_);
  if (ttl && ttl.value() > 0) {
    renewed_at_ = clock_.now();
    last_error_.clear();
    return std::nullopt;
  }
  if (ttl) {  // etcd says the lease is gone: so is the leader key
    lease_ = 0;
    return become(Role::Standby, "the lease expired in etcd");
  }
  last_error_ = ttl.error().message;
  // Still the leader for what is left of the lease (etcd counts the TTL from
  // the last renewal it saw, which is no later than ours).
  if (clock_.now() - renewed_at_ < std::chrono::seconds(config_.lease_ttl_s)) return std::nullopt;
  // The lease is kept: if etcd still has it when it answers again, the next
  // campaign finds the key on it and resumes (follow()).
  return become(Role::Unavailable, "lease not renewed for " + std::to_string(config_.lease_ttl_s) + " s: " + last_error_);
}

std::optional<Cluster::Change> Cluster::lost(const std::string &why) {
  lease_ = 0;  // never reuse it: the fence moved
  next_tick_ = clock_.now();
  return become(Role::Standby, why);
}

void Cluster::resign() {
  if (role_ == Role::Unavailable && lease_ != 0) {
    // A lease kept while cut off (renew()): let it go if etcd answers.
    if (auto error = client_.lease_revoke(lease_))
      spdlog::info("cluster: the lease kept while cut off from etcd was not revoked ({}); it expires", error->message);
    lease_ = 0;
    return;
  }
  if (role_ != Role::Leader || lease_ == 0) return;
  if (auto error = client_.lease_revoke(lease_))
    spdlog::warn("cluster: lease not revoked ({}): a standby takes over when it expires", error->message);
  else
    spdlog::info("cluster: resigned; a standby takes over at its next campaign");
  lease_ = 0;
  become(Role::Standby, "resigned");
}

void Cluster::store_failed(const std::string &why) { store_error_ = why; }

json Cluster::local_status_json() const {
  const Instant now = clock_.now();
  json j = {{"name", config_.name},
            {"role", role_name(role_)},
            {"role_for_s", seconds_since(role_since_, now)},
            {"leader", role_ == Role::Unavailable ? json(nullptr) : leader_},
            {"lease_ttl_s", config_.lease_ttl_s},
            {"lease_id", lease_ ? hex_id(static_cast<uint64_t>(lease_)) : std::string()},
            {"lease_renewed_s_ago", lease_ ? seconds_since(renewed_at_, now) : 0.0},
            {"fence_revision", role_ == Role::Leader ? fence_revision_ : 0},
            {"elections_won", elections_won_},
            {"leadership_lost", leadership_lost_},
            {"last_error", last_error_},
            {"serving", role_ == Role::Leader && store_error_.empty()},
            {"store",
             {{"prefix", store_.prefix()},
              {"skipped_records", store_.skipped_records()},
              {"healthy", store_error_.empty()},
              {"error", store_error_}}}};
  return j;
}

json Cluster::status_json() {
  json j = local_status_json();
  auto members = client_.status_all();
  int64_t newest = 0;
  for (const auto &m : members) newest = std::max(newest, m.raft_index);
  json list = json::array();
  for (const auto &m : members) {
    json row = {{"endpoint", m.endpoint}, {"healthy", !m.error}};
    if (m.error) {
      row["error"] = *m.error;
    } else {
      row["member_id"] = hex_id(m.member_id);
      row["raft_leader"] = m.leader ? hex_id(m.leader) : std::string();
      row["is_raft_leader"] = m.leader != 0 && m.leader == m.member_id;
      row["version"] = m.version;
      row["raft_term"] = m.raft_term;
      row["raft_index"] = m.raft_index;
      row["lag"] = newest - m.raft_applied_index;  // entries behind the most advanced member
      row["db_size"] = m.db_size;
    }
    list.push_back(row);
  }
  j["members"] = list;
  return j;
}

}  // namespace nvmove::nvad
