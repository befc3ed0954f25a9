// The dataplane's counters as `nvectl show counters` and the report at exit
// print them: one model (a ctl::Record), so the two agree on names, widths
// and JSON shape.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "control/ctl/table.h"

namespace nvmove {

class NvedRuntime;

// Packets the workers passed to the control thread: used (the gateway's
// ARP/NA) or freed because nothing there wants them (a drop).
struct ControlPacketCounts {
  uint64_t learnt = 0, unhandled = 0;
};

// Every counter under "counters" (text: the non-zero ones, drops marked),
// then the control thread's under "control" when given, then
// "drops_total" ("drops (all reasons)"). `values` holds one per dp::Counter.
ctl::Record counter_record(std::span<const uint64_t> values, std::optional<ControlPacketCounts> control);

// The report at exit, counted from start-up: the record of the totals, and
// in JSON also "workers": [{"worker", "lcore", "counters": {...}}].
ctl::Record exit_counter_record(const NvedRuntime &rt, ControlPacketCounts control);
// The record's JSON with the per-worker counters added (--counters-json).
nlohmann::json exit_counters_json(const NvedRuntime &rt, const ctl::Record &totals);

}  // namespace nvmove
