// Prometheus text exposition (format 0.0.4) of nvad's counters: what GET
// /metrics on `metrics.listen` answers (docs/nvad.md, "Metrics").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "control/nvad/counters.h"

namespace nvmove::nvad {

// nvad_<counter>_total for every counter, nvad_rejected_total{status},
// nvad_dropped_total{reason}, nvad_bindings, nvad_build_info{version} and
// nvad_start_time_seconds.
std::string prometheus_text(const Counters &counters, size_t bindings, uint64_t start_time_unix_s);

}  // namespace nvmove::nvad
