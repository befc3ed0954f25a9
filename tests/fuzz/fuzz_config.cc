// libFuzzer target: arbitrary text as nved's configuration. It must load or
// fail with a ConfigError; any other exception or crash is a bug.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "control/nved/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  try {
    const auto cfg = nvmove::load_config_text(text, "fuzz");
    (void)nvmove::static_routes(cfg);
  } catch (const nvmove::ConfigError &) {
  }
  return 0;
}
