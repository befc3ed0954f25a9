// How the store spells the parts of a Binding that are lists (addresses,
// endpoints, attempts, move times) in one column each: a JSON array, which
// stays readable with the sqlite3 shell and json_each(). Parsing is strict:
// a damaged database is reported, not half-loaded.
#pragma once

#include <nlohmann/json.hpp>
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

// The same lists as JSON values, for stores that keep a whole binding in
// one JSON document (store_record.h).
nlohmann::json addresses_json(const std::vector<IpAddress> &addresses);
std::optional<std::vector<IpAddress>> parse_addresses(const nlohmann::json &array);
nlohmann::json endpoints_json(const proto::NveAddresses &endpoints);
std::optional<proto::NveAddresses> parse_endpoints(const nlohmann::json &array);
nlohmann::json attempts_json(const std::vector<RequestStamp> &attempts);
std::optional<std::vector<RequestStamp>> parse_attempts(const nlohmann::json &array);
nlohmann::json instants_json(const std::vector<Instant> &instants, const Clock &clock);
std::optional<std::vector<Instant>> parse_instants(const nlohmann::json &array, const Clock &clock);

}  // namespace nvmove::nvad::store_columns
