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
};

class Store {
 public:
  virtual ~Store() = default;
  // All of `writes` or none of them; in order, so a later write of the same
  // binding wins.
  virtual std::optional<StoreError> apply(std::span<const StoreWrite> writes) = 0;
  virtual proto::Result<StoredState, StoreError> load() = 0;
};

// SQLite in WAL mode (sqlite_store.cc). Times are stored as wall-clock
// nanoseconds and converted with `clock`, which must outlive the store.
proto::Result<std::unique_ptr<Store>, StoreError> open_sqlite_store(const std::string &path,
                                                                    const Clock &clock);

}  // namespace nvmove::nvad
