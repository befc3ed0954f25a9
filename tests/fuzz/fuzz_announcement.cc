// libFuzzer target: arbitrary bytes as a frame a worker passed up to nved's
// control thread, read as a VM announcement (gratuitous ARP / unsolicited
// NA). It must answer or refuse without reading past the frame.
#include <cstdint>
#include <cstring>
#include <vector>

#include "control/nved/vm_announcement.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // An exact-size copy, so ASan catches any read past the frame.
  std::vector<uint8_t> frame(data, data + size);
  (void)nvmove::parse_vm_announcement(frame.data(), frame.size());
  return 0;
}
