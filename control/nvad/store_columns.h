// How the store spells the parts of a Binding that are lists (addresses,
// endpoints, attempts, move times) in one column each: a JSON array, which
// stays readable with the sqlite3 shell and json_each(). Parsing is strict:
// a damaged database is reported, not half-loaded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/nvad/binding.h"
#include "control/base/clock.h"

namespace nvmove::nvad::store_columns {

std::string addresses(const std::vector<IpAddress> &addresses);
std::optional<std::vector<IpAddress>> parse_addresses(const std::string &text);

std::string endpoints(const proto::NveAddresses &endpoints);
std::optional<proto::NveAddresses> parse_endpoints(const std::string &text);

std::string attempts(const std::vector<RequestStamp> &attempts);
std::optional<std::vector<RequestStamp>> parse_attempts(const std::string &text);

// Instants as wall-clock nanoseconds (see clock.h).
std::string instants(const std::vector<Instant> &instants, const Clock &clock);
std::optional<std::vector<Instant>> parse_instants(const std::string &text, const Clock &clock);

}  // namespace nvmove::nvad::store_columns
