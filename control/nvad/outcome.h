// What handling one message or one timer tick produced. The registrar only
// decides; the server persists and sends, in this order: the writes (one
// transaction), the reply, then the notifications, so that nothing is
// announced that a crash could take back.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "control/nvad/counters.h"
#include "control/nvad/store.h"
#include "control/protocol/message.h"

namespace nvmove::nvad {

struct Destination {
  IpAddress address;
  uint16_t port = 0;
  bool operator==(const Destination &) const = default;
};

struct Outgoing {
  Destination to;
  proto::Message message;
};

// A refused request, for the (rate-limited) log. The counter is already
// incremented when this is returned.
struct Rejection {
  IpAddress peer;
  proto::Status status = proto::Status::Unspecified;
  std::string reason;
};

struct Outcome {
  std::optional<Outgoing> reply;
  std::vector<Outgoing> notifications;  // move notifications and retransmissions
  std::vector<StoreWrite> writes;
  std::optional<Rejection> rejection;
  std::optional<DropReason> dropped;  // no reply at all, and why

  // Appends a store write, built in place (which also spares GCC 12 a false
  // -Wmaybe-uninitialized about moving a std::variant holding a Binding).
  template <typename Write>
  void write(Write change) {
    writes.emplace_back(std::in_place_type<Write>, std::move(change));
  }
};

}  // namespace nvmove::nvad
