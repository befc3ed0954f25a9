// Counters as JSON (exact numbers) and as an aligned text table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace nvmove {

class NvedRuntime;

// {"totals": {name: n, ...}, "workers": [{"lcore": l, "counters": {...}}],
//  "control": {...}, "routes": {...}}: every counter, zero or not.
nlohmann::json counters_json(const NvedRuntime &rt);

// Non-zero totals, one per line, drops marked.
std::string counters_text(const NvedRuntime &rt);

}  // namespace nvmove
