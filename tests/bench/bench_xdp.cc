// The XDP program's cost per packet and its route updates (issue 16), for
// scripts/bench.sh beside the DPDK fast path's figures:
//
//   nve_bench_xdp --object build/drivers/xdp/nve_xdp.bpf.o [--routes 1000,1000000] [--runs N]
//
// For each table size and family: N host routes of moved VMs (IPv4 toward
// an IPv4 NVE, IPv6 toward an IPv6 NVE) inserted into the empty route map
// in batches (bpf_map_update_batch: inserts per second), then
// --runs packets to random ones through the program with
// bpf_prog_test_run_opts, one at a time (a repeat would run the program on
// its own output: encapsulation changes the packet), averaging the
// kernel's own measure of each run (ns per packet; the syscall is not in
// it) less the same for the object's empty program (what a test run costs
// around any program). Also local delivery to a VM of this NVE. Prints
// RESULT lines.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <rte_ip.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/tunnel_template.h"
#include "drivers/xdp/xdp_program.h"
#include "drivers/xdp/xdp_routes.h"
#include "tests/support/dataplane_testbed.h"
#include "tests/support/golden_packets.h"

using namespace nvmove;

namespace {

constexpr uint32_t kLoopback = 1;

// 10.0.0.0/8 upwards, or fd00::/64 upwards.
IpAddress vm_address(uint8_t family, uint32_t i) {
  IpAddress a;
  a.family = family;
  const uint32_t v = (family == 4 ? 0x0a000000u : 0) + 16 + i;
  uint8_t *last = a.bytes.data() + (family == 4 ? 0 : 12);
  if (family == 6) a.bytes[0] = 0xfd;
  last[0] = static_cast<uint8_t>(v >> 24);
  last[1] = static_cast<uint8_t>(v >> 16);
  last[2] = static_cast<uint8_t>(v >> 8);
  last[3] = static_cast<uint8_t>(v);
  return a;
}

std::vector<uint8_t> golden_input(const char *name) {
  for (const auto &g : dp::testbed::golden_packets())
    if (std::strcmp(g.name, name) == 0) return dp::testbed::unhex(g.input);
  throw std::logic_error(std::string("no golden packet ") + name);
}

// The test bed's IPv4 or IPv6 datagram from the fabric, to `dst`.
std::vector<uint8_t> packet_to(const IpAddress &dst) {
  if (dst.is_v6()) {
    std::vector<uint8_t> f = golden_input("encap_ipv6");
    std::memcpy(f.data() + 14 + 24, dst.bytes.data(), 16);
    f[14 + 7] = 64;  // hop limit
    return f;
  }
  std::vector<uint8_t> f = dp::testbed::unhex(dp::testbed::kV4In);
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  std::memcpy(&ip->dst_addr, dst.bytes.data(), 4);
  ip->time_to_live = 64;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return f;
}

// The kernel's average ns per run over `runs` packets drawn from `pkts`.
double ns_per_packet(int prog_fd, const std::vector<std::vector<uint8_t>> &pkts, int runs, uint32_t want_verdict,
                     int &wrong) {
  std::mt19937 rng(7);
  uint64_t total = 0;
  std::vector<uint8_t> out(2048);
  for (int i = 0; i < runs; i++) {
    const auto &p = pkts[rng() % pkts.size()];
    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(p.size());
    ctx.ingress_ifindex = kLoopback;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.data(), .data_out = out.data(),
                .data_size_in = static_cast<uint32_t>(p.size()), .data_size_out = static_cast<uint32_t>(out.size()),
                .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = 1);
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0 || opts.retval != want_verdict) wrong++;
    total += opts.duration;
  }
  return double(total) / runs;
}

}  // namespace

int main(int argc, char **argv) {
  std::string object;
  std::vector<uint32_t> sizes = {1000, 1000000};
  int runs = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--object") object = argv[i + 1];
    else if (k == "--runs") runs = std::atoi(argv[i + 1]);
    else if (k == "--routes") {
      sizes.clear();
      std::stringstream in(argv[i + 1]);
      for (std::string n; std::getline(in, n, ',');) sizes.push_back(static_cast<uint32_t>(std::stoul(n)));
    } else {
      std::fprintf(stderr, "nve_bench_xdp: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (object.empty() || runs <= 0) {
    std::fprintf(stderr, "usage: nve_bench_xdp --object PATH [--routes N,N] [--runs N]\n");
    return 2;
  }
  for (uint32_t n : sizes) {
    for (const uint8_t family : {uint8_t{4}, uint8_t{6}}) {
      drivers::XdpProgram prog(object, n + 16);  // a fresh program and maps per size and family
      prog.set_port(0, kLoopback, dp::testbed::kFabricMac, 0);
      prog.set_port(1, 1001, dp::testbed::kAccessMac, 0);
      prog.set_redirect(1, kLoopback);
      nve_xdp_settings set{};
      set.tunnel_mtu = 1500;
      prog.set_settings(set);
      dp::TunnelTemplate t{};
      std::string why;
      const char *nve_address = family == 4 ? "198.51.100.2" : "2001:db8::2";
      if (!dp::build_tunnel_template(dp::testbed::fabric(), *IpAddress::parse(nve_address), t, why)) {
        std::fprintf(stderr, "nve_bench_xdp: %s\n", why.c_str());
        return 1;
      }
      prog.set_nve(0, drivers::nve_entry(t));

      // The routes, in batches of 10,000 (moved VMs; the last one local).
      std::vector<nve_xdp_key> keys;
      std::vector<nve_xdp_route> values;
      for (uint32_t i = 0; i < n; i++) {
        keys.push_back(drivers::xdp_key(0, vm_address(family, i)));
        nve_xdp_route r{};
        r.kind = NVE_XDP_TUNNEL;
        r.nve = 0;
        values.push_back(r);
      }
      const auto t0 = std::chrono::steady_clock::now();
      for (uint32_t first = 0; first < n; first += 10000) {
        const uint32_t count = std::min<uint32_t>(10000, n - first);
        prog.set_routes(std::span(keys).subspan(first, count), std::span(values).subspan(first, count));
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      nve_xdp_route local{};
      local.kind = NVE_XDP_LOCAL;
      local.port = 1;
      std::memcpy(local.mac, dp::testbed::kVmMac.data(), 6);
      const IpAddress local_vm = vm_address(family, n);
      prog.set_route(drivers::xdp_key(0, local_vm), local);

      std::vector<std::vector<uint8_t>> encap, deliver = {packet_to(local_vm)};
      std::mt19937 rng(11);
      // Up to 65,536 distinct destinations (the DPDK benchmark draws from
      // every route; a million packets would not fit the cache either way).
      for (uint32_t i = 0; i < std::min<uint32_t>(n, 65536); i++)
        encap.push_back(packet_to(vm_address(family, rng() % n)));
      int wrong = 0;
      // What the test run costs around any program (an empty one), taken off.
      const double base = ns_per_packet(prog.baseline_fd(), encap, runs / 4, XDP_PASS, wrong);
      const double ns_encap = ns_per_packet(prog.program_fd(), encap, runs, XDP_TX, wrong) - base;
      const double ns_local = ns_per_packet(prog.program_fd(), deliver, runs / 4, XDP_REDIRECT, wrong) - base;
      const std::string tag = n >= 1000000 ? std::to_string(n / 1000000) + "m" : std::to_string(n / 1000) + "k";
      const char *fam = family == 4 ? "ipv4" : "ipv6";
      std::printf("# XDP, %u %s routes: %s %.1f ns/packet, local delivery %.1f ns/packet (bpf_prog_test_run, "
                  "kernel-measured, less %.1f ns for an empty program), %u routes written in %.2f s; %d run(s) with "
                  "an unexpected verdict\n",
                  n, family == 4 ? "IPv4" : "IPv6", family == 4 ? "IPv4-in-IPv4" : "IPv6-in-IPv6", ns_encap, ns_local,
                  base, n, secs, wrong);
      std::printf("RESULT xdp_%s_encap_%s_ns %.1f ns\n", fam, tag.c_str(), ns_encap);
      std::printf("RESULT xdp_%s_local_%s_ns %.1f ns\n", fam, tag.c_str(), ns_local);
      if (family == 4) std::printf("RESULT xdp_route_updates_%s_per_s %.0f updates/s\n", tag.c_str(), n / secs);
      else std::printf("RESULT xdp_ipv6_route_updates_%s_per_s %.0f updates/s\n", tag.c_str(), n / secs);
      if (wrong) return 1;
    }
  }
  return 0;
}
