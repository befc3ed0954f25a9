// libFuzzer target: arbitrary bytes as the value of a key under nvad's etcd
// prefix (store_record.h), which any etcd client can write. Read as a
// binding and as a peer, it must parse or be refused with a reason; any
// exception, crash or undefined behaviour is a bug. A binding that parses
// must write back to a record that parses too.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "control/base/clock.h"
#include "control/nvad/store_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace nvmove::nvad;
  static const nvmove::FakeClock clock;
  const auto record = nlohmann::json::parse(data, data + size, nullptr, false);
  if (record.is_discarded()) return 0;
  if (auto binding = store_record::parse_binding(record, clock); binding.ok()) {
    if (!store_record::parse_binding(store_record::binding(binding.value(), clock), clock).ok()) std::abort();
  }
  (void)store_record::parse_peer(record);
  return 0;
}
