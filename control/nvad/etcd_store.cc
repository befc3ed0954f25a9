#include "control/nvad/etcd_store.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "control/nvad/store_record.h"
#include "control/nvad/text_format.h"

namespace nvmove::nvad {
namespace {

constexpr int64_t kLoadPage = 1000;

// The writes of one batch as key writes, the last write of each key only
// (etcd refuses a transaction that names a key twice), in first-seen order.
template <typename F>
std::vector<std::pair<std::string, std::optional<std::string>>> coalesce(std::span<const StoreWrite> writes, F &&encode) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  std::map<std::string, size_t> index;
  for (const auto &write : writes) {
    auto [key, value] = encode(write);
    auto [it, fresh] = index.emplace(key, out.size());
    if (fresh) out.emplace_back(std::move(key), std::move(value));
    else out[it->second].second = std::move(value);
  }
  return out;
}

}  // namespace

EtcdStore::EtcdStore(etcd::Client &client, std::string prefix, const Clock &clock)
    : client_(client), prefix_(std::move(prefix)), clock_(clock) {}

std::string EtcdStore::binding_key(const BindingKey &key) const {
  return prefix_ + "bindings/" + std::to_string(key.virtual_network) + "/" + vm_id_text(key.vm_id);
}

std::string EtcdStore::peer_key(const IpAddress &peer) const { return prefix_ + "peers/" + peer.to_string(); }

std::optional<StoreError> EtcdStore::apply(std::span<const StoreWrite> writes) {
  if (writes.empty()) return std::nullopt;
  auto keyed = coalesce(writes, [this](const StoreWrite &write) -> std::pair<std::string, std::optional<std::string>> {
    if (const auto *put = std::get_if<PutBinding>(&write))
      return {binding_key(put->binding.key()), store_record::binding(put->binding, clock_).dump()};
    if (const auto *erase = std::get_if<EraseBinding>(&write)) return {binding_key(erase->key), std::nullopt};
    const auto &peer = std::get<PutPeerState>(write);
    return {peer_key(peer.peer), store_record::peer(peer.peer, peer.state).dump()};
  });
  std::vector<KeyWrite> batch;
  for (size_t i = 0; i < keyed.size(); i++) {
    batch.push_back({std::move(keyed[i].first), std::move(keyed[i].second)});
    if (batch.size() == kMaxKeysPerTransaction || i + 1 == keyed.size()) {
      if (auto error = commit(batch)) return error;
      batch.clear();
      if (between_requests_ && i + 1 < keyed.size()) between_requests_();
    }
  }
  return std::nullopt;
}

std::optional<StoreError> EtcdStore::commit(std::span<const KeyWrite> writes) {
  std::vector<etcd::Compare> compares;
  std::vector<etcd::Op> ops;
  if (fence_)
    compares.push_back({fence_->first, etcd::Compare::Target::Create, etcd::Compare::Result::Equal, fence_->second, {}});
  for (const auto &w : writes) {
    auto known = revisions_.find(w.key);
    if (known != revisions_.end())
      compares.push_back({w.key, etcd::Compare::Target::Mod, etcd::Compare::Result::Equal, known->second, {}});
    else  // absent as far as we know: it must still be (create revision 0)
      compares.push_back({w.key, etcd::Compare::Target::Create, etcd::Compare::Result::Equal, 0, {}});
    if (w.value) ops.push_back(etcd::Put{w.key, *w.value, 0});
    else ops.push_back(etcd::DeleteRange{w.key, {}});
  }
  std::vector<etcd::Op> on_failure;
  if (fence_) on_failure.push_back(etcd::Get{fence_->first, {}});
  auto result = client_.txn(compares, ops, on_failure);
  if (!result) {
    const bool unreachable = result.error().unreachable;
    return StoreError{"etcd write failed: " + result.error().message,
                      unreachable ? StoreError::Kind::Unreachable : StoreError::Kind::Failed};
  }
  if (!result->succeeded) {
    if (fence_) {
      const auto &leader = result->gets.empty() ? etcd::RangeResult{} : result->gets[0];
      if (leader.kvs.empty() || leader.kvs[0].create_revision != fence_->second)
        return StoreError{"etcd write refused: this nvad is no longer the leader (" + fence_->first +
                              (leader.kvs.empty() ? " is vacant)" : " was taken by " + leader.kvs[0].value + ")"),
                          StoreError::Kind::Fenced};
    }
    return StoreError{"etcd write refused: a key changed in etcd since this nvad read it (another writer under " +
                          prefix_ + "?)",
                      StoreError::Kind::Conflict};
  }
  for (const auto &w : writes) {
    if (w.value) revisions_[w.key] = result->revision;
    else revisions_.erase(w.key);
  }
  return std::nullopt;
}

proto::Result<StoredState, StoreError> EtcdStore::load() {
  StoredState state;
  revisions_.clear();
  const auto skip = [this](const std::string &key, const std::string &why) {
    skipped_++;
    spdlog::error("etcd store: {}: {}; skipped (the key is left as it is)", key, why);
  };
  for (const std::string part : {"bindings/", "peers/"}) {
    const std::string first = prefix_ + part, end = etcd::prefix_end(first);
    std::string from = first;
    for (;;) {
      auto page = client_.range(from, end, kLoadPage);
      if (!page) {
        const bool unreachable = page.error().unreachable;
        return StoreError{"etcd read failed: " + page.error().message,
                          unreachable ? StoreError::Kind::Unreachable : StoreError::Kind::Failed};
      }
      for (const auto &kv : page->kvs) {
        revisions_[kv.key] = kv.mod_revision;  // what a later write compares with, parsed or not
        const auto record = nlohmann::json::parse(kv.value, nullptr, false);
        if (record.is_discarded()) {
          skip(kv.key, "not JSON");
          continue;
        }
        if (part == "bindings/") {
          auto binding = store_record::parse_binding(record, clock_);
          if (!binding) skip(kv.key, binding.error());
          else if (binding_key(binding->key()) != kv.key)
            skip(kv.key, "holds the binding of another key (" + binding_key(binding->key()) + ")");
          else state.bindings.push_back(std::move(binding).value());
        } else {
          auto peer = store_record::parse_peer(record);
          if (!peer) skip(kv.key, peer.error());
          else if (peer_key(peer->first) != kv.key)
            skip(kv.key, "holds the state of another peer (" + peer->first.to_string() + ")");
          else state.peers[peer->first] = std::move(peer->second);
        }
      }
      if (!page->more || page->kvs.empty()) break;
      from = page->kvs.back().key + std::string(1, '\0');
      if (between_requests_) between_requests_();
    }
  }
  return state;
}

}  // namespace nvmove::nvad
