// nvxdp's packet traces, as nved's (VPP's `trace add` / `show trace`):
//   trace add PORT N   the next N packets received on PORT
//   show trace         what happened to each: what arrived, the counters it
//                      moved, what the program sent (or passed, or dropped)
//   clear trace        stop tracing, forget what was recorded
// The program records a traced packet (struct nve_xdp_trace) into a ring
// buffer only while its port has budget left; this reads the ring from
// nvxdp's loop and keeps the last 10,000 records.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "control/ctl/ctl_socket.h"
#include "control/nved/config.h"
#include "control/nvxdp/xdp_metrics.h"
#include "drivers/xdp/xdp_program.h"

struct ring_buffer;

namespace nvmove {

class XdpTraces {
 public:
  // Throws std::runtime_error if the ring cannot be read.
  XdpTraces(drivers::XdpProgram &prog, const std::vector<XdpPort> &ports, const NvedConfig &cfg);
  ~XdpTraces();
  XdpTraces(const XdpTraces &) = delete;
  XdpTraces &operator=(const XdpTraces &) = delete;

  void register_commands(ctl::CtlServer &server);
  // Takes what the program recorded; never blocks.
  void poll();

  ctl::Reply trace_add(const std::vector<std::string> &args);
  ctl::Reply show_trace() const;
  ctl::Reply clear_trace();

 private:
  struct Record {
    uint64_t seq, ns;
    uint32_t port, cpu, in_len, out_len, verdict;
    std::vector<uint64_t> moved;
    std::vector<uint8_t> in, out;
  };
  static int on_record(void *self, void *data, size_t size);
  std::string output_text(const Record &r) const;

  drivers::XdpProgram &prog_;
  const std::vector<XdpPort> &ports_;
  const NvedConfig &cfg_;
  ring_buffer *ring_ = nullptr;
  std::deque<Record> records_;
  uint64_t seq_ = 0;
};

}  // namespace nvmove
