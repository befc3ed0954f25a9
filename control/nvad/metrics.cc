#include "control/nvad/metrics.h"

#include <nlohmann/json.hpp>
#include <sstream>

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

}  // namespace nvmove::nvad
