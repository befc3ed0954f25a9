#include "control/nvad/metrics.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "control/nvad/cluster.h"
#include "control/nvad/exabgp_export.h"

namespace nvmove::nvad {

std::string prometheus_text(const Counters &counters, size_t bindings, uint64_t start_time_unix_s) {
  // From the same JSON as `show protocol stats`, so the two never disagree
  // on names: scalars are counters; "rejected" and "dropped" are labelled.
  const nlohmann::json j = counters_json(counters);
  std::ostringstream o;
  auto family = [&](const std::string &name, const char *type, const std::string &help) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_number_unsigned()) continue;
    const std::string name = "nvad_" + it.key() + "_total";
    family(name, "counter", "nvad protocol counter " + it.key() + " (show protocol stats).");
    o << name << " " << it->get<uint64_t>() << "\n";
  }
  family("nvad_rejected_total", "counter", "Registration requests refused, by status.");
  for (auto it = j["rejected"].begin(); it != j["rejected"].end(); ++it)
    o << "nvad_rejected_total{status=\"" << it.key() << "\"} " << it->get<uint64_t>() << "\n";
  family("nvad_dropped_total", "counter", "Datagrams dropped without an answer, by reason.");
  for (auto it = j["dropped"].begin(); it != j["dropped"].end(); ++it)
    o << "nvad_dropped_total{reason=\"" << it.key() << "\"} " << it->get<uint64_t>() << "\n";
  family("nvad_bindings", "gauge", "Bindings in the cache (active and in their de-registration grace).");
  o << "nvad_bindings " << bindings << "\n";
  family("nvad_build_info", "gauge", "nvad's version.");
  o << "nvad_build_info{version=\"" << NVMOVE_VERSION << "\"} 1\n";
  family("nvad_start_time_seconds", "gauge", "When this nvad started, seconds since the Unix epoch.");
  o << "nvad_start_time_seconds " << start_time_unix_s << "\n";
  return o.str();
}

std::string export_prometheus_text(const ExaBgpExport &exporter, uint64_t without_next_hop) {
  const ExportCounters &c = exporter.counters();
  std::ostringstream o;
  auto family = [&](const char *name, const char *type, const char *help) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  family("nvad_export_routes", "gauge", "Host routes of moved VMs announced through the BGP speaker.");
  o << "nvad_export_routes " << exporter.size() << "\n";
  family("nvad_export_speakers", "gauge", "BGP speakers (nvmove-exabgp bridges) connected to the export socket.");
  o << "nvad_export_speakers " << exporter.speakers() << "\n";
  family("nvad_export_commands_total", "counter", "Route commands issued to the speakers, by command.");
  o << "nvad_export_commands_total{command=\"announce\"} " << c.announced << "\n";
  o << "nvad_export_commands_total{command=\"withdraw\"} " << c.withdrawn << "\n";
  family("nvad_export_answers_total", "counter", "ExaBGP's answers to route commands (done, error).");
  o << "nvad_export_answers_total{answer=\"done\"} " << c.acknowledged << "\n";
  o << "nvad_export_answers_total{answer=\"error\"} " << c.refused << "\n";
  family("nvad_export_over_limit_total", "counter", "Host routes not announced: export.max_routes reached.");
  o << "nvad_export_over_limit_total " << c.over_limit << "\n";
  family("nvad_export_without_next_hop_total", "counter",
         "Addresses of VMs away from home not announced: the serving NVE has no endpoint of their family.");
  o << "nvad_export_without_next_hop_total " << without_next_hop << "\n";
  family("nvad_export_speaker_connects_total", "counter", "Speaker connections accepted on the export socket.");
  o << "nvad_export_speaker_connects_total " << c.speaker_connects << "\n";
  return o.str();
}

std::string cluster_prometheus_text(const Cluster &cluster) {
  const nlohmann::json s = cluster.local_status_json();
  std::ostringstream o;
  auto family = [&](const char *name, const char *type, const char *help) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  family("nvad_cluster_role", "gauge", "This nvad's role in its cluster: 1 for the current one.");
  for (const char *role : {"leader", "standby", "unavailable"})
    o << "nvad_cluster_role{role=\"" << role << "\"} " << (s["role"] == role ? 1 : 0) << "\n";
  family("nvad_cluster_serving", "gauge", "1 while this nvad answers registrations (leader, store readable).");
  o << "nvad_cluster_serving " << (s["serving"].get<bool>() ? 1 : 0) << "\n";
  family("nvad_cluster_elections_won_total", "counter", "Elections this nvad won.");
  o << "nvad_cluster_elections_won_total " << s["elections_won"].get<uint64_t>() << "\n";
  family("nvad_cluster_leadership_lost_total", "counter", "Times this nvad stopped leading (lease or fence lost).");
  o << "nvad_cluster_leadership_lost_total " << s["leadership_lost"].get<uint64_t>() << "\n";
  family("nvad_store_healthy", "gauge", "0 after a failed etcd read or write, until the store is read again.");
  o << "nvad_store_healthy " << (s["store"]["healthy"].get<bool>() ? 1 : 0) << "\n";
  family("nvad_store_skipped_records", "gauge", "Values under nvad's etcd prefix skipped as damaged or foreign.");
  o << "nvad_store_skipped_records " << s["store"]["skipped_records"].get<uint64_t>() << "\n";
  return o.str();
}

}  // namespace nvmove::nvad
