// The XDP program on interfaces: attached native where the driver has it
// (or generic), never over another program: only over an earlier nvxdp's
// (same program name), which it replaces atomically, so a restart that took
// over the pinned maps (xdp_program.h) forwards without a gap. Detached
// again on request; release() leaves every port attached (the program keeps
// forwarding on its pinned maps until the next nvxdp takes over).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace nvmove::drivers {

class XdpAttachment {
 public:
  explicit XdpAttachment(int prog_fd) : prog_fd_(prog_fd) {}
  ~XdpAttachment() { detach_all(); }
  XdpAttachment(const XdpAttachment &) = delete;
  XdpAttachment &operator=(const XdpAttachment &) = delete;

  struct Attached {
    std::string mode;       // "native" or "generic"
    bool replaced = false;  // an earlier nvxdp's program was there
  };
  // `mode`: auto (native, else generic), native or generic. On failure the
  // reason (the kernel's, or the foreign program found there).
  std::optional<std::string> attach(unsigned ifindex, const std::string &mode, Attached &out);
  void detach_all();
  void release() { attached_.clear(); }
  size_t size() const { return attached_.size(); }

 private:
  struct Port {
    unsigned ifindex;
    unsigned flags;  // the mode it was attached in
  };
  int prog_fd_;
  std::vector<Port> attached_;
};

// Detaches an earlier nvxdp's program from `ifindex` (an interface a
// takeover's configuration no longer has), whatever mode it is in; another
// program is left alone. Whether one was detached.
bool detach_earlier(unsigned ifindex);

// The name the kernel knows the program by (bpf_prog_info.name): how an
// earlier nvxdp's program is told from another's.
inline constexpr const char *kXdpProgramName = "nve_xdp";

}  // namespace nvmove::drivers
