#include "control/nved/show_tables.h"

#include <cstdio>

#include "control/base/clock.h"

namespace nvmove {

ctl::Table neighbour_table() {
  return ctl::Table({{"address", "ADDRESS", 41}, {"role", "ROLE", 10}, {"mac", "MAC", 19}, {"source", "SOURCE"}});
}

void add_neighbour(ctl::Table &t, const IpAddress &address, const char *role, const std::optional<MacAddress> &mac,
                   const char *source) {
  t.add({address.family ? address.to_string() : "-", role,
         mac ? ctl::Cell(mac_to_string(*mac)) : ctl::Cell::shown_as(nullptr, "unresolved"), source});
}

void add_traced_packet(ctl::Table &t, std::string &text, const TracedPacket &p) {
  auto &row = t.add({p.unit_id, p.seq, p.port, p.length, p.in});
  row.extra = {{"counters", p.counters}, {"dropped", p.dropped}, {"seconds_ago", p.seconds_ago},
               {"output", p.out == "-" ? nlohmann::json(nullptr) : nlohmann::json(p.out)}};
  char head[160];
  std::snprintf(head, sizeof head, "%s %llu packet %llu: port %u, %u bytes, %s%s\n", p.unit,
                (unsigned long long)p.unit_id, (unsigned long long)p.seq, p.port, p.length,
                ago_text(p.seconds_ago).c_str(), p.dropped ? ", DROPPED" : "");
  text += head;
  text += "  in:       " + p.in + "\n  counters: " + p.counters + "\n  out:      " + p.out + "\n";
}

ctl::Record xstats_record(const std::vector<std::pair<std::string, uint64_t>> &stats) {
  ctl::Record rec(40, 20, ctl::Record::Keys::flat);
  for (const auto &[name, value] : stats) rec.add(name, value);
  return rec;
}

}  // namespace nvmove
