// Persistence of the binding cache. The registrar never calls the store: it
// returns the writes a request caused (outcome.h) and the server applies
// them, all of one request in one transaction, before sending the reply. So
// another backend (a replicated one, for an nvad cluster) only has to
// implement these two calls.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "control/nvad/binding.h"
#include "control/base/clock.h"
#include "control/nvad/peer_table.h"
#include "control/protocol/result.h"

namespace nvmove::nvad {

struct PutBinding {
  Binding binding;
};
struct EraseBinding {
  BindingKey key;
};
struct PutPeerState {
  IpAddress peer;
  PeerState state;
};
using StoreWrite = std::variant<PutBinding, EraseBinding, PutPeerState>;

struct StoredState {
  std::vector<Binding> bindings;
  std::map<IpAddress, PeerState> peers;
};

struct StoreError {
  std::string message;
  enum class Kind {
    Failed,       // refused or damaged
    Unreachable,  // a replicated store that cannot be reached
    Fenced,       // this nvad is no longer the cluster's leader (cluster.h)
    Conflict,     // a key changed under us: another writer
  } kind = Kind::Failed;
};

class Store {
 public:
  virtual ~Store() = default;
  // All of `writes` or none of them; in order, so a later write of the same
  // binding wins.
  virtual std::optional<StoreError> apply(std::span<const StoreWrite> writes) = 0;
  virtual proto::Result<StoredState, StoreError> load() = 0;
  // Shared by several nvad instances (etcd): the store, not this process's
  // memory, is the truth, so a write that failed must not be acknowledged
  // and the binding cache is read again before the next request. A private
  // store (SQLite) keeps the cache in memory authoritative instead.
  virtual bool shared() const { return false; }
};

// SQLite in WAL mode (sqlite_store.cc). Times are stored as wall-clock
// nanoseconds and converted with `clock`, which must outlive the store.
proto::Result<std::unique_ptr<Store>, StoreError> open_sqlite_store(const std::string &path,
                                                                    const Clock &clock);

}  // namespace nvmove::nvad
