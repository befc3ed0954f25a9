// The XDP fast path's program and maps, from user space (libbpf): load the
// object meson built (drivers/xdp/nve_xdp.bpf.c), describe ports, write
// host routes and NVE templates, read the per-CPU counters, and run packets
// through it with bpf_prog_test_run_opts (no NIC: the golden and
// differential tests). With a pin directory its maps live on in bpffs after
// the process, and the next one takes them over (routes, NVE headers,
// counters) instead of starting empty. Every failure throws
// std::runtime_error naming the map and the kernel's reason.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <string>
#include <vector>

#include "common/net_types.h"
#include "drivers/xdp/nve_xdp_abi.h"

struct bpf_object;

namespace nvmove::drivers {

class XdpProgram {
 public:
  // Opens and loads the object at `path`, its route map sized for
  // `route_capacity` routes. `pin_dir` (on a BPF filesystem; /sys/fs/bpf
  // is mounted if it is not): the maps pinned there are taken over, else
  // created and pinned. Throws std::runtime_error (with libbpf's reason,
  // e.g. the verifier's, or the pinned maps that do not fit) if it cannot.
  explicit XdpProgram(const std::string &path, uint32_t route_capacity = 1u << 16, const std::string &pin_dir = "");
  ~XdpProgram();
  XdpProgram(const XdpProgram &) = delete;
  XdpProgram &operator=(const XdpProgram &) = delete;

  int program_fd() const { return prog_fd_; }
  // The maps were pinned already: an earlier instance's, taken over.
  bool took_over() const { return took_over_; }
  // The pins removed (a clean stop): the next start begins empty.
  void unpin();
  uint32_t route_capacity() const { return route_capacity_; }
  // The object's empty program (benchmark baseline).
  int baseline_fd() const { return baseline_fd_; }

  // Port `index` (its place in nved's configuration) is interface
  // `ifindex` with `mac`; its native packets are looked up in `vn` (what
  // dp::ingress_vn gives: the fabric port's is nve.fabric_vn); `vlan`: an
  // access port's VLAN (0: untagged).
  void set_port(uint32_t index, uint32_t ifindex, const MacAddress &mac, uint32_t vn, uint16_t vlan = 0);
  // Packets for port `index` leave through interface `ifindex` (devmap).
  void set_redirect(uint32_t index, uint32_t ifindex);
  // The interfaces the port map names (after a takeover, before any
  // set_port: the earlier instance's).
  std::vector<uint32_t> port_interfaces() const;
  // Trace the next `packets` packets received on port `index` (0: stop);
  // the records come through trace_ring_fd() (struct nve_xdp_trace).
  void set_trace(uint32_t index, int32_t packets);
  int trace_ring_fd() const { return map_fd("nve_trace_ring"); }
  // Every port but `indexes` emptied: their interfaces' packets pass.
  void clear_ports_except(std::span<const uint32_t> indexes);
  void set_settings(const nve_xdp_settings &s);
  void set_nve(uint32_t index, const nve_xdp_nve &nve);
  void set_route(const nve_xdp_key &key, const nve_xdp_route &route);
  // Many at once (bpf_map_update_batch): one system call.
  void set_routes(std::span<const nve_xdp_key> keys, std::span<const nve_xdp_route> routes);
  void delete_route(const nve_xdp_key &key);

  // The route map's entry at `key` as the program has it now (its use
  // stamps among it), if any.
  std::optional<nve_xdp_route> route(const nve_xdp_key &key) const;
  // Every key in the route map, and the NVE template at `index`: what an
  // earlier instance left (XdpRoutes::adopt).
  std::vector<nve_xdp_key> route_keys() const;
  // Every entry of the route map, in a few system calls (batches of 10,000):
  // a whole listing's use stamps.
  std::vector<std::pair<nve_xdp_key, nve_xdp_route>> routes_all() const;
  nve_xdp_nve nve(uint32_t index) const;

  // Sum over CPUs of counter `c` (dataplane/counter_list.h's index).
  uint64_t counter(uint32_t c) const;
  // Every counter, per possible CPU: [cpu][counter].
  std::vector<std::vector<uint64_t>> counters_per_cpu() const;

  struct RunResult {
    uint32_t verdict = 0;  // XDP_PASS, XDP_TX, XDP_REDIRECT ...
    std::vector<uint8_t> out;
  };
  // One packet through the program as if received on `ifindex`.
  RunResult run(std::span<const uint8_t> packet, uint32_t ifindex) const;

 private:
  int map_fd(const char *name) const;

  bpf_object *obj_ = nullptr;
  int prog_fd_ = -1;
  int baseline_fd_ = -1;
  uint32_t route_capacity_ = 0;
  std::string pin_dir_;
  bool took_over_ = false;
  std::map<std::string, int> maps_;
};

nve_xdp_key xdp_key(uint32_t vn, const IpAddress &address);

}  // namespace nvmove::drivers
