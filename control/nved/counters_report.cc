#include "control/nved/counters_report.h"

#include <sstream>
#include <iomanip>

#include "control/nved/runtime.h"

namespace nvmove {

nlohmann::json counters_json(const NvedRuntime &rt) {
  nlohmann::json totals = nlohmann::json::object();
  nlohmann::json workers = nlohmann::json::array();
  for (size_t c = 0; c < dp::kCounterCount; c++)
    totals[dp::kCounterInfo[c].name] = rt.total(static_cast<dp::Counter>(c));
  for (size_t w = 0; w < rt.worker_count(); w++) {
    nlohmann::json one = nlohmann::json::object();
    for (size_t c = 0; c < dp::kCounterCount; c++)
      one[dp::kCounterInfo[c].name] = rt.worker(w).counters.get(static_cast<dp::Counter>(c));
    workers.push_back({{"worker", w}, {"lcore", rt.worker_lcore(w)}, {"counters", one}});
  }
  return {{"totals", totals}, {"workers", workers}};
}

std::string counters_text(const NvedRuntime &rt) {
  std::ostringstream o;
  for (size_t c = 0; c < dp::kCounterCount; c++) {
    const uint64_t v = rt.total(static_cast<dp::Counter>(c));
    if (!v) continue;
    o << "  " << std::left << std::setw(32) << dp::kCounterInfo[c].name << std::right << std::setw(16) << v
      << (dp::kCounterInfo[c].is_drop ? "  (drop)" : "") << "\n";
  }
  return o.str();
}

}  // namespace nvmove
