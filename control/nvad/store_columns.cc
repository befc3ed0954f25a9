#include "control/nvad/store_columns.h"

#include "control/protocol/address_text.h"

namespace nvmove::nvad::store_columns {
namespace {

using nlohmann::json;

std::optional<json> parse_array(const std::string &text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_array()) return std::nullopt;
  return value;
}

std::optional<IpAddress> parse_address(const json &item) {
  if (!item.is_string()) return std::nullopt;
  return proto::parse_ip_address(item.get<std::string>());
}

// A column's text through the JSON-level parser.
template <typename F>
auto parse_text(const std::string &text, F &&parse) -> decltype(parse(json())) {
  auto array = parse_array(text);
  if (!array) return std::nullopt;
  return parse(*array);
}

}  // namespace

json addresses_json(const std::vector<IpAddress> &addresses) {
  json array = json::array();
  for (const auto &address : addresses) array.push_back(address.to_string());
  return array;
}

std::optional<std::vector<IpAddress>> parse_addresses(const json &array) {
  if (!array.is_array()) return std::nullopt;
  std::vector<IpAddress> out;
  for (const auto &item : array) {
    auto address = parse_address(item);
    if (!address) return std::nullopt;
    out.push_back(*address);
  }
  return out;
}

json endpoints_json(const proto::NveAddresses &endpoints) {
  std::vector<IpAddress> list;
  if (endpoints.ipv4) list.push_back(*endpoints.ipv4);
  if (endpoints.ipv6) list.push_back(*endpoints.ipv6);
  return addresses_json(list);
}

std::optional<proto::NveAddresses> parse_endpoints(const json &array) {
  auto list = parse_addresses(array);
  if (!list) return std::nullopt;
  proto::NveAddresses out;
  for (const auto &address : *list) {
    auto &slot = address.is_v4() ? out.ipv4 : out.ipv6;
    if (slot) return std::nullopt;  // two of one family
    slot = address;
  }
  return out;
}

json attempts_json(const std::vector<RequestStamp> &attempts) {
  json array = json::array();
  for (const auto &attempt : attempts) array.push_back({attempt.sequence, attempt.timestamp_ns});
  return array;
}

std::optional<std::vector<RequestStamp>> parse_attempts(const json &array) {
  if (!array.is_array()) return std::nullopt;
  std::vector<RequestStamp> out;
  for (const auto &item : array) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_number_unsigned() ||
        !item[1].is_number_unsigned() || item[0].get<uint64_t>() > 0xffff)
      return std::nullopt;
    out.push_back({static_cast<uint16_t>(item[0].get<uint64_t>()), item[1].get<uint64_t>()});
  }
  return out;
}

json instants_json(const std::vector<Instant> &instants, const Clock &clock) {
  json array = json::array();
  for (Instant when : instants) array.push_back(to_wall_ns(when, clock));
  return array;
}

std::optional<std::vector<Instant>> parse_instants(const json &array, const Clock &clock) {
  if (!array.is_array()) return std::nullopt;
  std::vector<Instant> out;
  for (const auto &item : array) {
    if (!item.is_number_unsigned()) return std::nullopt;
    out.push_back(from_wall_ns(item.get<uint64_t>(), clock));
  }
  return out;
}

std::string addresses(const std::vector<IpAddress> &list) { return addresses_json(list).dump(); }
std::optional<std::vector<IpAddress>> parse_addresses(const std::string &text) {
  return parse_text(text, [](const json &a) { return parse_addresses(a); });
}
std::string endpoints(const proto::NveAddresses &e) { return endpoints_json(e).dump(); }
std::optional<proto::NveAddresses> parse_endpoints(const std::string &text) {
  return parse_text(text, [](const json &a) { return parse_endpoints(a); });
}
std::string attempts(const std::vector<RequestStamp> &list) { return attempts_json(list).dump(); }
std::optional<std::vector<RequestStamp>> parse_attempts(const std::string &text) {
  return parse_text(text, [](const json &a) { return parse_attempts(a); });
}
std::string instants(const std::vector<Instant> &list, const Clock &clock) { return instants_json(list, clock).dump(); }
std::optional<std::vector<Instant>> parse_instants(const std::string &text, const Clock &clock) {
  return parse_text(text, [&clock](const json &a) { return parse_instants(a, clock); });
}

}  // namespace nvmove::nvad::store_columns
