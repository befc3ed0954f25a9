// The Store on etcd (issue 18, docs/nvad.md "nvad on etcd"): several nvad
// instances share it, one of them active (cluster.h).
//
// Layout under the prefix (default /nvmove/nvad/):
//   bindings/<virtual network>/<VM-ID text>   one binding (store_record.h)
//   peers/<address>                           one NVE's protocol state
//   leader                                    the election (cluster.h)
//
// A write is acknowledged only once etcd has committed it (a quorum of
// members), and it is one transaction that compares revisions first:
//   - the leader key still has the create revision of our election (the
//     fence): a deposed leader that has not noticed yet writes nothing;
//   - every key written still has the mod revision this nvad last saw (or
//     is still absent): no update by another writer is overwritten.
// A transaction holds at most kMaxKeysPerTransaction keys (etcd's default
// --max-txn-ops is 128); a larger batch of writes (timers expiring many
// bindings at once) is several transactions, each all or nothing.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "control/etcd/etcd_client.h"
#include "control/nvad/store.h"

namespace nvmove::nvad {

inline constexpr size_t kMaxKeysPerTransaction = 100;

class EtcdStore final : public Store {
 public:
  // `client` and `clock` must outlive the store. `prefix` ends with '/'.
  EtcdStore(etcd::Client &client, std::string prefix, const Clock &clock);

  std::optional<StoreError> apply(std::span<const StoreWrite> writes) override;
  // Every binding and peer under the prefix. A value that does not parse, or
  // that is stored under another key than its own, is logged with its key,
  // counted (skipped_records) and left alone.
  proto::Result<StoredState, StoreError> load() override;
  bool shared() const override { return true; }

  // Writes succeed only while the key `leader_key` has create revision
  // `revision`; nullopt: no fence (the migration tool, tests).
  void set_fence(std::optional<std::pair<std::string, int64_t>> fence) { fence_ = std::move(fence); }
  uint64_t skipped_records() const { return skipped_; }
  // Called between the pages of load() and between the transactions of a
  // large apply(): reading 100,000 bindings, or erasing as many at once,
  // takes seconds, longer than a short lease, so the leader renews its
  // lease there (Cluster::renew_if_due) instead of losing it to its own work.
  void set_between_requests(std::function<void()> f) { between_requests_ = std::move(f); }
  const std::string &prefix() const { return prefix_; }

  std::string binding_key(const BindingKey &key) const;
  std::string peer_key(const IpAddress &peer) const;

 private:
  struct KeyWrite {
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  std::optional<StoreError> commit(std::span<const KeyWrite> writes);

  etcd::Client &client_;
  std::string prefix_;
  const Clock &clock_;
  std::optional<std::pair<std::string, int64_t>> fence_;
  // The mod revision of each key as this nvad last read or wrote it.
  std::map<std::string, int64_t> revisions_;
  uint64_t skipped_ = 0;
  std::function<void()> between_requests_;
};

}  // namespace nvmove::nvad
