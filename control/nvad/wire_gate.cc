#include "control/nvad/wire_gate.h"

#include "control/nvad/text_format.h"
#include "control/protocol/codec.h"

namespace nvmove::nvad {

proto::Result<Inbound, GateDrop> admit(std::span<const uint8_t> wire, const IpAddress &peer,
                                       uint16_t port, const proto::KeyTable &keys) {
  auto decoded = proto::decode(wire);
  if (!decoded) return GateDrop{DropReason::Malformed, decoded.error().describe()};
  const proto::AuthKey *key = keys.find(peer, decoded->auth.key_id);
  if (!key) {
    if (!keys.sending_key(peer))
      return GateDrop{DropReason::UnknownPeer, "no key for " + peer.to_string() + " in the key file"};
    return GateDrop{DropReason::UnknownKeyId,
                    "key id " + std::to_string(decoded->auth.key_id) + " is not configured for " +
                        peer.to_string()};
  }
  auto verdict = proto::verify_authentication(wire, decoded->auth, *key);
  if (verdict != proto::AuthVerdict::Authentic)
    return GateDrop{DropReason::BadMac, proto::auth_verdict_name(verdict)};
  return Inbound{peer, port, std::move(decoded->message)};
}

proto::Result<std::vector<uint8_t>, std::string> seal(const proto::Message &message,
                                                      const IpAddress &peer,
                                                      const proto::KeyTable &keys) {
  const proto::AuthKey *key = keys.sending_key(peer);
  if (!key) return std::string("no key for " + peer.to_string() + " in the key file");
  auto wire = proto::encode(message, *key);
  if (!wire) return wire.error().describe();
  return std::move(wire).value();
}

}  // namespace nvmove::nvad
