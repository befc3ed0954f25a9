// Several nvad instances on one etcd store, one of them active (issue 18,
// docs/nvad.md "nvad on etcd"). The election is etcd's usual recipe: the
// leader key (<prefix>leader) is created in a transaction that requires it
// to be absent, attached to a lease this instance keeps alive; when the
// instance dies or loses etcd, the lease expires, the key goes with it, and
// a standby's next campaign creates it. The key's create revision is the
// fence of every store write (etcd_store.h), so a leader that was deposed
// without noticing cannot overwrite its successor's writes. A leader cut
// off from etcd for longer than the TTL stops serving but keeps its lease
// ID: if etcd did not expire the lease meanwhile (its own raft elections
// extend every lease), the key is still on it when etcd answers, and the
// instance renews it and leads again (follow()).
//
// Driven from nvad's loop (tick()), never from a thread of its own: each
// call is one or two requests of about a millisecond to a local member,
// bounded by the client's timeout when a member is gone.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/base/clock.h"
#include "control/etcd/etcd_client.h"
#include "control/nvad/etcd_store.h"

namespace nvmove::nvad {

struct ClusterConfig {
  std::string name;          // this instance, as show cluster and the leader key name it
  std::string advertise;     // where NVEs reach it (informational, in the leader key)
  int64_t lease_ttl_s = 5;   // a dead leader is replaced within this, plus one tick
};

class Cluster {
 public:
  enum class Role {
    Standby,      // another instance leads: requests are answered 133
    Leader,       // this instance serves
    Unavailable,  // etcd cannot be reached: nobody is known to lead; requests answered 130
  };
  static const char *role_name(Role role);

  Cluster(etcd::Client &client, EtcdStore &store, ClusterConfig config, const Clock &clock);

  struct Change {
    Role from, to;
    std::string why;
  };
  // Renews the lease (leader) or campaigns (otherwise) when due; the role
  // change, if any. The first call campaigns at once.
  std::optional<Change> tick();
  Instant next_tick() const { return next_tick_; }
  Role role() const { return role_; }
  // For work that keeps nvad's loop away longer than a third of the lease
  // (reading a large store): renews the lease if it is due. A role change
  // this causes is returned by the next tick().
  void renew_if_due();
  // The store refused a write because the fence moved: leadership is gone.
  std::optional<Change> lost(const std::string &why);
  // Clean stop: the lease is revoked, so a standby takes over at its next
  // tick instead of after the lease's TTL.
  void resign();
  // The server's word on the store: a write or a read failed (requests are
  // answered 130 until it is read again), or it was read again.
  void store_failed(const std::string &why);
  void store_recovered() { store_error_.clear(); }

  // show cluster: role, leader, lease, each etcd member's view.
  nlohmann::json status_json();
  // The same without asking the members (no etcd request): for metrics.
  nlohmann::json local_status_json() const;

 private:
  std::optional<Change> campaign();
  std::optional<Change> follow(const etcd::KeyValue &leader);
  std::optional<Change> lead(int64_t fence, const char *how);
  std::optional<Change> renew();
  std::optional<Change> become(Role role, const std::string &why);
  Duration tick_interval() const;

  etcd::Client &client_;
  EtcdStore &store_;
  ClusterConfig config_;
  const Clock &clock_;
  std::string leader_key_;
  Role role_ = Role::Unavailable;
  int64_t lease_ = 0;
  int64_t fence_revision_ = 0;
  Instant renewed_at_{};
  Instant next_tick_{};
  Instant role_since_{};
  nlohmann::json leader_;  // the leader key's value as last read
  std::optional<Change> deferred_;  // from renew_if_due(), for the next tick()
  std::string last_error_;
  std::string store_error_;  // empty while the store is read and written
  uint64_t elections_won_ = 0, leadership_lost_ = 0;
};

}  // namespace nvmove::nvad
