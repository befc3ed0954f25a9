// The binding cache, the peers and the counters as JSON: what the CLI's
// `show bindings`, `show peers` and `show protocol stats` will print (and
// `--json` will pass through). Times are relative to now, in milliseconds,
// so the output reads the same on any host and in any time zone.
#pragma once

#include <nlohmann/json.hpp>

#include "control/nvad/registrar.h"
#include "control/protocol/keys.h"

namespace nvmove::nvad {

nlohmann::json binding_json(const Binding &binding, const Clock &clock);
nlohmann::json bindings_json(const BindingCache &cache, const Clock &clock);
// At most `limit` bindings in key order, after `after` (from the first if
// none); `next` is the last one's key when more may follow. Lets a client
// page through 100,000 bindings while the loop serves the protocol between
// pages, instead of rendering them all in one go.
nlohmann::json bindings_page_json(const BindingCache &cache, const Clock &clock, const std::optional<BindingKey> &after,
                                  size_t limit, std::optional<BindingKey> &next);
// Every NVE nvad knows of: from the key file, the peers list and the cache.
nlohmann::json peers_json(const Registrar &registrar, const proto::KeyTable *keys);
nlohmann::json protocol_stats_json(const Registrar &registrar);

}  // namespace nvmove::nvad
