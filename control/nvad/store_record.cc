#include "control/nvad/store_record.h"

#include <stdexcept>

#include "common/net_types.h"
#include "control/nvad/store_columns.h"
#include "control/nvad/text_format.h"
#include "control/protocol/address_text.h"

namespace nvmove::nvad::store_record {
namespace {

using nlohmann::json;
namespace columns = store_columns;

[[noreturn]] void bad(const std::string &what) { throw std::runtime_error(what); }

const json &field(const json &record, const char *name) {
  auto it = record.find(name);
  if (it == record.end()) bad(std::string("no field '") + name + "'");
  return *it;
}

uint64_t unsigned_field(const json &record, const char *name, uint64_t max = UINT64_MAX) {
  const json &value = field(record, name);
  // Text from etcd parses non-negative numbers as unsigned; a record built
  // in memory may hold a signed one (kFormat is an int).
  const bool non_negative = value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
  if (!non_negative || value.get<uint64_t>() > max)
    bad(std::string("field '") + name + "' is not a number in range");
  return value.get<uint64_t>();
}

std::string text_field(const json &record, const char *name) {
  const json &value = field(record, name);
  if (!value.is_string()) bad(std::string("field '") + name + "' is not text");
  return value.get<std::string>();
}

bool bool_field(const json &record, const char *name) {
  const json &value = field(record, name);
  if (!value.is_boolean()) bad(std::string("field '") + name + "' is not true or false");
  return value.get<bool>();
}

IpAddress address_field(const json &record, const char *name) {
  auto address = proto::parse_ip_address(text_field(record, name));
  if (!address) bad(std::string("field '") + name + "' is not an IP address");
  return *address;
}

template <typename T>
T require(std::optional<T> value, const char *name) {
  if (!value) bad(std::string("field '") + name + "' is malformed");
  return std::move(*value);
}

void check_format(const json &record) {
  if (!record.is_object()) bad("not a JSON object");
  const uint64_t format = unsigned_field(record, "format");
  if (format != static_cast<uint64_t>(kFormat))
    bad("format " + std::to_string(format) + ", this nvad reads format " + std::to_string(kFormat));
}

json nve_json(const NveRef &nve) {
  return {{"control", nve.control.to_string()}, {"port", nve.port}, {"endpoints", columns::endpoints_json(nve.endpoints)}};
}

NveRef parse_nve(const json &record) {
  NveRef nve;
  nve.control = address_field(record, "control");
  nve.port = static_cast<uint16_t>(unsigned_field(record, "port", 0xffff));
  nve.endpoints = require(columns::parse_endpoints(field(record, "endpoints")), "endpoints");
  return nve;
}

json previous_json(const PreviousNve &p, const Clock &clock) {
  json j = {{"nve", nve_json(p.nve)},
            {"role", static_cast<unsigned>(p.role)},
            {"redirect_until_ns", to_wall_ns(p.redirect_until, clock)},
            {"state", static_cast<unsigned>(p.state)},
            {"retries", p.retries},
            {"next_retransmit_ns", to_wall_ns(p.next_retransmit, clock)},
            {"attempts", columns::attempts_json(p.attempts)},
            {"rejected_with", nullptr}};
  if (p.rejected_with) j["rejected_with"] = static_cast<unsigned>(*p.rejected_with);
  return j;
}

PreviousNve parse_previous(const json &record, const Clock &clock) {
  if (!record.is_object()) bad("a previous NVE is not an object");
  PreviousNve p;
  p.nve = parse_nve(field(record, "nve"));
  p.role = static_cast<PreviousRole>(unsigned_field(record, "role", static_cast<uint64_t>(PreviousRole::Router)));
  p.redirect_until = from_wall_ns(unsigned_field(record, "redirect_until_ns"), clock);
  p.state = static_cast<NotificationState>(
      unsigned_field(record, "state", static_cast<uint64_t>(NotificationState::Failed)));
  p.retries = static_cast<unsigned>(unsigned_field(record, "retries", UINT32_MAX));
  p.next_retransmit = from_wall_ns(unsigned_field(record, "next_retransmit_ns"), clock);
  p.attempts = require(columns::parse_attempts(field(record, "attempts")), "attempts");
  const json &rejected = field(record, "rejected_with");
  if (!rejected.is_null()) p.rejected_with = static_cast<proto::Status>(unsigned_field(record, "rejected_with", 0xff));
  return p;
}

}  // namespace

json binding(const Binding &b, const Clock &clock) {
  json previous = json::array();
  for (const auto &p : b.previous) previous.push_back(previous_json(p, clock));
  json last_requests = json::array();
  for (const auto &[peer, stamp] : b.last_requests)
    last_requests.push_back({{"address", peer.to_string()}, {"sequence", stamp.sequence}, {"timestamp_ns", stamp.timestamp_ns}});
  json j = {{"format", kFormat},
            {"virtual_network", b.virtual_network},
            {"vm_id", vm_id_text(b.vm_id)},
            {"mac", mac_to_string(b.mac)},
            {"addresses", columns::addresses_json(b.addresses)},
            {"serving", nve_json(b.serving)},
            {"previous", previous},
            {"state", static_cast<unsigned>(b.state)},
            {"granted_lifetime", b.granted_lifetime},
            {"registered_at_ns", to_wall_ns(b.registered_at, clock)},
            {"expires_at_ns", to_wall_ns(b.expires_at, clock)},
            {"last_move_mode", static_cast<unsigned>(b.last_move_mode)},
            {"move_count", b.move_count},
            {"recent_moves_ns", columns::instants_json(b.recent_moves, clock)},
            {"flapping", b.flapping},
            {"flap_detected_at_ns", nullptr},
            {"last_requests", last_requests}};
  if (b.flap_detected_at) j["flap_detected_at_ns"] = to_wall_ns(*b.flap_detected_at, clock);
  return j;
}

proto::Result<Binding, std::string> parse_binding(const json &record, const Clock &clock) {
  try {
    check_format(record);
    Binding b;
    b.virtual_network = static_cast<uint32_t>(unsigned_field(record, "virtual_network", UINT32_MAX));
    b.vm_id = require(proto::parse_vm_id(text_field(record, "vm_id")), "vm_id");
    b.mac = require(parse_mac(text_field(record, "mac")), "mac");
    b.addresses = require(columns::parse_addresses(field(record, "addresses")), "addresses");
    b.serving = parse_nve(field(record, "serving"));
    const json &previous = field(record, "previous");
    if (!previous.is_array()) bad("field 'previous' is not a list");
    for (const auto &p : previous) b.previous.push_back(parse_previous(p, clock));
    b.state = static_cast<BindingState>(
        unsigned_field(record, "state", static_cast<uint64_t>(BindingState::DeregisteredGrace)));
    b.granted_lifetime = static_cast<uint16_t>(unsigned_field(record, "granted_lifetime", 0xffff));
    b.registered_at = from_wall_ns(unsigned_field(record, "registered_at_ns"), clock);
    b.expires_at = from_wall_ns(unsigned_field(record, "expires_at_ns"), clock);
    b.last_move_mode = static_cast<proto::MobilityMode>(unsigned_field(record, "last_move_mode", 3));
    b.move_count = unsigned_field(record, "move_count");
    b.recent_moves = require(columns::parse_instants(field(record, "recent_moves_ns"), clock), "recent_moves_ns");
    b.flapping = bool_field(record, "flapping");
    if (!field(record, "flap_detected_at_ns").is_null())
      b.flap_detected_at = from_wall_ns(unsigned_field(record, "flap_detected_at_ns"), clock);
    const json &requests = field(record, "last_requests");
    if (!requests.is_array()) bad("field 'last_requests' is not a list");
    for (const auto &r : requests) {
      if (!r.is_object()) bad("a last request is not an object");
      const IpAddress peer = address_field(r, "address");  // checked first: fields in the order written
      b.last_requests[peer] =
          RequestStamp{static_cast<uint16_t>(unsigned_field(r, "sequence", 0xffff)), unsigned_field(r, "timestamp_ns")};
    }
    return b;
  } catch (const std::exception &e) {
    return std::string(e.what());
  }
}

json peer(const IpAddress &address, const PeerState &state) {
  json j = {{"format", kFormat},
            {"address", address.to_string()},
            {"received_sequence", nullptr},
            {"received_timestamp_ns", nullptr},
            {"next_sequence", state.next_sequence},
            {"last_sent_timestamp_ns", state.last_sent_timestamp_ns},
            {"port", state.port}};
  if (state.received.has_history()) {
    j["received_sequence"] = *state.received.last_sequence();
    j["received_timestamp_ns"] = *state.received.last_timestamp_ns();
  }
  return j;
}

proto::Result<std::pair<IpAddress, PeerState>, std::string> parse_peer(const json &record) {
  try {
    check_format(record);
    std::pair<IpAddress, PeerState> out;
    out.first = address_field(record, "address");
    PeerState &state = out.second;
    if (!field(record, "received_sequence").is_null())
      state.received.record(static_cast<uint16_t>(unsigned_field(record, "received_sequence", 0xffff)),
                            unsigned_field(record, "received_timestamp_ns"));
    state.next_sequence = static_cast<uint16_t>(unsigned_field(record, "next_sequence", 0xffff));
    state.last_sent_timestamp_ns = unsigned_field(record, "last_sent_timestamp_ns");
    state.port = static_cast<uint16_t>(unsigned_field(record, "port", 0xffff));
    return out;
  } catch (const std::exception &e) {
    return std::string(e.what());
  }
}

}  // namespace nvmove::nvad::store_record
