#include "control/nved/counters_report.h"

#include <vector>

#include "control/nved/runtime.h"
#include "dataplane/counters.h"

namespace nvmove {

ctl::Record counter_record(std::span<const uint64_t> values, std::optional<ControlPacketCounts> control) {
  ctl::Record rec(34, 20);
  uint64_t drops = 0;
  for (size_t c = 0; c < dp::kCounterCount; c++) {
    const auto &info = dp::kCounterInfo[c];
    const uint64_t v = values[c];
    if (info.is_drop) drops += v;
    rec.add({std::string("counters.") + info.name, v, info.name, info.is_drop ? "drop" : "", v != 0});
  }
  if (control) {
    rec.add({"control.learnt", control->learnt, "control_learnt", "", control->learnt != 0});
    rec.add({"control.unhandled", control->unhandled, "control_unhandled", "drop", control->unhandled != 0});
    drops += control->unhandled;
  }
  rec.add({"drops_total", drops, "drops (all reasons)"});
  return rec;
}

ctl::Record exit_counter_record(const NvedRuntime &rt, ControlPacketCounts control) {
  std::vector<uint64_t> totals(dp::kCounterCount);
  for (size_t c = 0; c < dp::kCounterCount; c++) totals[c] = rt.total(static_cast<dp::Counter>(c));
  return counter_record(totals, control);
}

nlohmann::json exit_counters_json(const NvedRuntime &rt, const ctl::Record &totals) {
  nlohmann::json j = totals.json();
  nlohmann::json workers = nlohmann::json::array();
  for (size_t w = 0; w < rt.worker_count(); w++) {
    nlohmann::json one = nlohmann::json::object();
    for (size_t c = 0; c < dp::kCounterCount; c++)
      one[dp::kCounterInfo[c].name] = rt.worker(w).counters.get(static_cast<dp::Counter>(c));
    workers.push_back({{"worker", w}, {"lcore", rt.worker_lcore(w)}, {"counters", std::move(one)}});
  }
  j["workers"] = std::move(workers);
  return j;
}

}  // namespace nvmove
