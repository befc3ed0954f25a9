// One binding, or one peer's protocol state, as a self-contained JSON
// document: the value of one key in the etcd store (etcd_store.h), so that
// a write of one binding is a write of one key. Parsing is strict and says
// what is wrong: a damaged or foreign value is reported with its key and
// skipped, never half-loaded.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "control/base/clock.h"
#include "control/nvad/binding.h"
#include "control/nvad/peer_table.h"
#include "control/protocol/result.h"

namespace nvmove::nvad::store_record {

// Bumped when a field changes meaning; a reader refuses a format it does not
// know rather than guess.
inline constexpr int kFormat = 1;

nlohmann::json binding(const Binding &binding, const Clock &clock);
proto::Result<Binding, std::string> parse_binding(const nlohmann::json &record, const Clock &clock);

nlohmann::json peer(const IpAddress &address, const PeerState &state);
proto::Result<std::pair<IpAddress, PeerState>, std::string> parse_peer(const nlohmann::json &record);

}  // namespace nvmove::nvad::store_record
