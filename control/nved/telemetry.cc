#include "control/nved/telemetry.h"

#include <rte_telemetry.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "control/ctl/ctl_socket.h"

namespace nvmove {

namespace {

std::string g_socket;

// Telemetry (22.11) calls back with no user pointer: one trampoline per command.
struct TelemetryCommand {
  const char *path;
  const char *ctl_command;
  const char *help;
};

constexpr TelemetryCommand kCommands[] = {
    {"/nve/counters", "show counters", "Outcome and drop counters. Parameter: worker id (optional)"},
    {"/nve/workers", "show workers", "Workers: lcore, queues, packets, idle ratio"},
    {"/nve/route_table", "show route-table", "Route table capacity, size, memory, version"},
    {"/nve/routes", "show routes", "Host routes. Parameters: [vn N] [ADDRESS]"},
    {"/nve/ports", "show ports", "Ports and roles"},
    {"/nve/neighbours", "show neighbours", "Fabric gateway resolution"},
    {"/nve/agent", "show agent", "Mobility agent counters (when the agent runs)"},
};

void add_value(rte_tel_data *d, const std::string &key, const nlohmann::json &v) {
  if (v.is_boolean()) rte_tel_data_add_dict_u64(d, key.c_str(), v.get<bool>() ? 1 : 0);  // 22.11 has no bool
  else if (v.is_number_unsigned()) rte_tel_data_add_dict_u64(d, key.c_str(), v.get<uint64_t>());
  else if (v.is_number_integer()) rte_tel_data_add_dict_int(d, key.c_str(), static_cast<int>(v.get<int64_t>()));
  else if (v.is_string()) rte_tel_data_add_dict_string(d, key.c_str(), v.get<std::string>().c_str());
  else rte_tel_data_add_dict_string(d, key.c_str(), v.dump().c_str());  // nested: as JSON text
}

int answer(const TelemetryCommand &c, const char *params, rte_tel_data *d) {
  nlohmann::json req = {{"command", c.ctl_command}, {"args", nlohmann::json::array()}, {"read_only", true}};
  if (params) {
    std::istringstream in(params);
    std::string w;
    std::vector<std::string> words;
    while (in >> w) words.push_back(w);
    // "/nve/counters,1" means worker 1.
    if (std::string(c.path) == "/nve/counters" && words.size() == 1) req["args"] = {"worker", words[0]};
    else for (auto &x : words) req["args"].push_back(x);
  }
  std::string why;
  auto resp = ctl::call(g_socket, req, 2000, why);
  if (!resp || !resp->value("ok", false)) return -1;
  const auto &data = (*resp)["data"];
  rte_tel_data_start_dict(d);
  if (data.is_object()) {
    // Counters: flatten {"counters": {...}} so collectors see plain numbers.
    const auto &obj = data.contains("counters") && data["counters"].is_object() ? data["counters"] : data;
    for (auto it = obj.begin(); it != obj.end(); ++it) add_value(d, it.key(), it.value());
    if (&obj != &data && data.contains("drops_total")) add_value(d, "drops_total", data["drops_total"]);
  } else if (data.is_array()) {
    // At most 255 entries (the last slot says how many there were); use
    // nvectl --json for the full list.
    if (data.size() > 255) {
      rte_tel_data_add_dict_u64(d, "total_entries", data.size());
    }
    // One nested dictionary per entry (telemetry strings are limited to
    // 128 bytes, so entries are not flattened into JSON text).
    for (size_t i = 0; i < data.size() && i < 255; i++) {
      if (!data[i].is_object()) {
        add_value(d, std::to_string(i), data[i]);
        continue;
      }
      rte_tel_data *entry = rte_tel_data_alloc();
      if (!entry) return -1;
      rte_tel_data_start_dict(entry);
      for (auto it = data[i].begin(); it != data[i].end(); ++it) {
        if (it.value().is_array() && !it.value().empty() && it.value()[0].is_object()) {
          // e.g. a worker's queues: "port:queue port:queue"
          std::string s;
          for (const auto &q : it.value()) {
            std::string one;
            for (auto f = q.begin(); f != q.end(); ++f) one += (one.empty() ? "" : ":") + f.value().dump();
            s += (s.empty() ? "" : " ") + one;
          }
          rte_tel_data_add_dict_string(entry, it.key().c_str(), s.c_str());
        } else {
          add_value(entry, it.key(), it.value());
        }
      }
      // 22.11 dictionaries hold RTE_TEL_MAX_DICT_ENTRIES (256) entries and do
      // not take ownership of a container they refuse.
      if (rte_tel_data_add_dict_container(d, std::to_string(i).c_str(), entry, 0) != 0) {
        rte_tel_data_free(entry);
        break;
      }
    }
  }
  return 0;
}

template <size_t I>
int trampoline(const char *, const char *params, rte_tel_data *d) {
  return answer(kCommands[I], params, d);
}

template <size_t... I>
void register_all(std::index_sequence<I...>) {
  ((rte_telemetry_register_cmd(kCommands[I].path, trampoline<I>, kCommands[I].help) == 0
        ? void()
        : spdlog::warn("telemetry command {} not registered", kCommands[I].path)),
   ...);
}

}  // namespace

void register_telemetry(const std::string &ctl_socket) {
  g_socket = ctl_socket;
  register_all(std::make_index_sequence<std::size(kCommands)>{});
}

}  // namespace nvmove
