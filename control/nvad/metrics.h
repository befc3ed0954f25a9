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

class ExaBgpExport;
// With export: (nvad.md, "Route optimisation in BGP"): nvad_export_routes,
// nvad_export_speakers, nvad_export_commands_total{command},
// nvad_export_answers_total{answer}, nvad_export_over_limit_total,
// nvad_export_speaker_connects_total.
// without_next_hop: RouteExport::without_next_hop() (VMs away from home whose
// serving NVE has no endpoint of the address's family).
std::string export_prometheus_text(const ExaBgpExport &exporter, uint64_t without_next_hop);

class Cluster;
// With store.backend etcd (nvad.md, "nvad on etcd"): nvad_cluster_role{role}
// (1 for the current role, 0 for the others), nvad_cluster_serving,
// nvad_cluster_elections_won_total, nvad_cluster_leadership_lost_total,
// nvad_store_healthy, nvad_store_skipped_records. Asks etcd nothing: a
// scrape never waits for a member.
std::string cluster_prometheus_text(const Cluster &cluster);

}  // namespace nvmove::nvad
