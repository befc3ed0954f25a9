// The management node's addresses as nved and nvxdp name them: in logs, and
// when checking that the key file can talk to every one of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/protocol/keys.h"

namespace nvmove::agent {

// "192.0.2.10" or "192.0.2.10,192.0.2.11".
inline std::string nvads_text(const std::vector<IpAddress> &nvads) {
  std::string text;
  for (const auto &nvad : nvads) {
    if (!text.empty()) text += ',';
    text += nvad.to_string();
  }
  return text;
}

// What is wrong when the key file lacks a key for one of them: a request
// failed over to that nvad could not be signed.
inline std::optional<std::string> missing_nvad_key(const proto::KeyTable &keys, const std::vector<IpAddress> &nvads) {
  for (const auto &nvad : nvads)
    if (!keys.sending_key(nvad)) return std::string("has no key for the management node ").append(nvad.to_string());
  return std::nullopt;
}

// Reads `key_file` into `keys` in place (the agent holds a reference to
// it) if it reads cleanly and has a key for every nvad: nullopt; else why,
// and `keys` stays as it was. At start and at every reload (SIGHUP, nvectl
// reload), in nved and nvxdp alike.
inline std::optional<std::string> load_agent_keys(const std::string &key_file, const std::vector<IpAddress> &nvads,
                                                  proto::KeyTable &keys) {
  auto loaded = proto::load_key_file(key_file);
  if (!loaded) return loaded.error().message;
  if (auto missing = missing_nvad_key(loaded.value(), nvads)) return key_file + " " + *missing;
  keys = std::move(loaded).value();
  return std::nullopt;
}

}  // namespace nvmove::agent
