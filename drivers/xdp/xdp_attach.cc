#include "drivers/xdp/xdp_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cstring>

namespace nvmove::drivers {

namespace {

// The program attached in `mode_flags` (XDP_FLAGS_DRV_MODE or SKB_MODE) on
// `ifindex`: 0 if none.
unsigned attached_id(unsigned ifindex, unsigned mode_flags) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  if (bpf_xdp_query(static_cast<int>(ifindex), 0, &q) != 0) return 0;
  return mode_flags == XDP_FLAGS_DRV_MODE ? q.drv_prog_id : q.skb_prog_id;
}

// An fd of program `id` and its name ("" if gone meanwhile).
int program_by_id(unsigned id, std::string &name) {
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return -1;
  bpf_prog_info info{};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
    close(fd);
    return -1;
  }
  name = info.name;
  return fd;
}

}  // namespace

std::optional<std::string> XdpAttachment::attach(unsigned ifindex, const std::string &mode, Attached &out) {
  std::string last_error = "no mode tried";
  for (const unsigned flags : {unsigned{XDP_FLAGS_DRV_MODE}, unsigned{XDP_FLAGS_SKB_MODE}}) {
    const bool native = flags == XDP_FLAGS_DRV_MODE;
    if ((native && mode == "generic") || (!native && mode == "native")) continue;
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
    int old_fd = -1;
    unsigned attach_flags = flags | XDP_FLAGS_UPDATE_IF_NOEXIST;
    if (const unsigned id = attached_id(ifindex, flags)) {
      std::string name;
      old_fd = program_by_id(id, name);
      if (old_fd >= 0 && name != kXdpProgramName) {
        close(old_fd);
        return "interface has XDP program " + (name.empty() ? std::string("(unnamed)") : name) + " (id " +
               std::to_string(id) + "), not nvmove's: not replaced";
      }
      if (old_fd >= 0) {  // an earlier nvxdp's: replaced in one step, if it is still the one there
        opts.old_prog_fd = old_fd;
        attach_flags = flags | XDP_FLAGS_REPLACE;
      }
    }
    const int rc = bpf_xdp_attach(static_cast<int>(ifindex), prog_fd_, attach_flags, &opts);
    if (old_fd >= 0) close(old_fd);
    if (rc == 0) {
      attached_.push_back({ifindex, flags});
      out.mode = native ? "native" : "generic";
      out.replaced = old_fd >= 0;
      return std::nullopt;
    }
    last_error = std::string(native ? "native" : "generic") + " mode: " + std::strerror(-rc);
  }
  return last_error;
}

bool detach_earlier(unsigned ifindex) {
  bool detached = false;
  for (const unsigned flags : {unsigned{XDP_FLAGS_DRV_MODE}, unsigned{XDP_FLAGS_SKB_MODE}}) {
    const unsigned id = attached_id(ifindex, flags);
    if (!id) continue;
    std::string name;
    const int fd = program_by_id(id, name);
    if (fd < 0) continue;
    if (name == kXdpProgramName) {
      LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);
      detached = bpf_xdp_detach(static_cast<int>(ifindex), flags | XDP_FLAGS_REPLACE, &opts) == 0 || detached;
    }
    close(fd);
  }
  return detached;
}

void XdpAttachment::detach_all() {
  for (const Port &p : attached_) {
    // Only our own program: whatever replaced it since is not ours to remove.
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = prog_fd_);
    bpf_xdp_detach(static_cast<int>(p.ifindex), p.flags | XDP_FLAGS_REPLACE, &opts);
  }
  attached_.clear();
}

}  // namespace nvmove::drivers
