// The XDP program's cost per packet and its route updates (issue 16), for
// scripts/bench.sh beside the DPDK fast path's figures:
//
//   nve_bench_xdp --object build/drivers/xdp/nve_xdp.bpf.o [--routes 1000,1000000] [--runs N]
//                 [--veth]
//
// For each table size and family: N host routes of moved VMs (IPv4 toward
// an IPv4 NVE, IPv6 toward an IPv6 NVE) inserted into the empty route map
// in batches (bpf_map_update_batch: inserts per second), then
// --runs packets to random ones through the program with
// bpf_prog_test_run_opts, one at a time (a repeat would run the program on
// its own output: encapsulation changes the packet), averaging the
// kernel's own measure of each run (ns per packet; the syscall is not in
// it) less the same for the object's empty program (what a test run costs
// around any program). Also local delivery to a VM of this NVE.
//
// With --veth: the same packets on a real receive path. The benchmark moves
// itself into a network namespace of its own (gone with the process,
// whatever happens) holding a veth pair, nvx0 and nvg0. The program is
// attached natively to nvx0, the packets are written to nvg0 through a
// packet socket (sendmmsg, 64 a call) and the kernel's
// run-time statistics (bpf_enable_stats: run count and nanoseconds of
// every run, taken in the driver's NAPI poll) give ns per packet, less the
// same for the empty program attached the same way: warm, as traffic runs,
// which a one-packet test run is not. Prints RESULT lines.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <rte_ip.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/tunnel_template.h"
#include "drivers/xdp/xdp_attach.h"
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

// A packet socket on the generator's end of the veth pair.
class Generator {
 public:
  explicit Generator(unsigned ifindex) {
    fd_ = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: sends only, receives nothing
    if (fd_ < 0) throw std::runtime_error(std::string("packet socket: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd_, reinterpret_cast<sockaddr *>(&to), sizeof to) != 0)
      throw std::runtime_error(std::string("bind to the generator's interface: ") + std::strerror(errno));
  }
  ~Generator() { close(fd_); }
  Generator(const Generator &) = delete;
  Generator &operator=(const Generator &) = delete;

  // Sends `count` frames drawn from `pkts`, 64 a call (all of them, or throws).
  void send(const std::vector<std::vector<uint8_t>> &pkts, int count) {
    std::mt19937 rng(7);
    constexpr int kBatch = 64;
    iovec iov[kBatch];
    mmsghdr msgs[kBatch];
    int full_in_a_row = 0;
    for (int done = 0; done < count;) {
      const int n = std::min(kBatch, count - done);
      for (int i = 0; i < n; i++) {
        auto &p = pkts[rng() % pkts.size()];
        iov[i] = {const_cast<uint8_t *>(p.data()), p.size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int r = sendmmsg(fd_, msgs, static_cast<unsigned>(n), 0);
      if (r < 0) {
        // The device's queue full: let the receiver's poll drain it, for
        // a bounded while.
        if ((errno == ENOBUFS || errno == EAGAIN) && ++full_in_a_row < 10000) {
          usleep(100);
          continue;
        }
        throw std::runtime_error(std::string("sendmmsg: ") + std::strerror(errno));
      }
      full_in_a_row = 0;
      done += r;
    }
  }

 private:
  int fd_ = -1;
};

// A network namespace of this process's own with the veth pair nvx0 <->
// nvg0, both up; nvg0 takes frames sent to it by XDP (GRO on gives it the
// NAPI instance veth wants for that). The reason when it cannot be made.
std::optional<std::string> private_veth_pair() {
  if (unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
  // No IPv6 on the pair: its router and neighbour solicitations would be
  // runs of the program that are not the benchmark's packets.
  if (std::FILE *v6 = std::fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w")) {  // absent: no IPv6 at all
    const bool written = std::fputs("1", v6) >= 0;
    if (std::fclose(v6) != 0 || !written) return std::string("IPv6 could not be turned off in the namespace");
  }
  for (const char *command : {"ip link add nvx0 type veth peer name nvg0", "ip link set nvx0 up",
                              "ip link set nvg0 up", "ethtool -K nvg0 gro on >/dev/null"})
    if (std::system(command) != 0) return std::string("'") + command + "' failed";
  return std::nullopt;
}

struct RunStats {
  uint64_t runs = 0, ns = 0;
};

RunStats run_stats(int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) throw std::runtime_error("bpf_obj_get_info_by_fd");
  return {info.run_cnt, info.run_time_ns};
}

// What one program did on the receive path while `count` frames arrived.
struct ReceivePath {
  double ns = 0;        // per run, over the measured frames
  uint64_t runs = 0;    // of the program on them
  uint64_t counted = 0;  // the program's counter asked for, over them
};

// `prog_fd` attached natively to `xdp_if` while `count` frames from `pkts`
// arrive from `gen`, after a warm-up that is not measured; `counter` (if
// any) one of `prog`'s counters, read over the measured frames only.
ReceivePath receive_path(int prog_fd, unsigned xdp_if, Generator &gen, const std::vector<std::vector<uint8_t>> &pkts,
                         int count, const drivers::XdpProgram &prog, std::optional<uint32_t> counter) {
  drivers::XdpAttachment attachment(prog_fd);
  drivers::XdpAttachment::Attached how;
  if (auto why = attachment.attach(xdp_if, "native", how)) throw std::runtime_error("attach: " + *why);
  gen.send(pkts, count / 10);  // warm up: routes, code, the veth's rings
  usleep(100000);
  const uint64_t counted_before = counter ? prog.counter(*counter) : 0;
  const RunStats before = run_stats(prog_fd);
  gen.send(pkts, count);
  RunStats after = run_stats(prog_fd);
  for (int i = 0; i < 50 && after.runs - before.runs < static_cast<uint64_t>(count); i++) {
    usleep(10000);  // the last NAPI polls
    after = run_stats(prog_fd);
  }
  ReceivePath r;
  r.runs = after.runs - before.runs;
  r.counted = counter ? prog.counter(*counter) - counted_before : 0;
  r.ns = r.runs ? double(after.ns - before.ns) / double(r.runs) : 0.0;
  return r;
}

}  // namespace

static int run(int argc, char **argv) {
  std::string object;
  std::vector<uint32_t> sizes = {1000, 1000000};
  int runs = 200000;
  bool veth = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--veth") {
      veth = true;
      i--;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "nve_bench_xdp: %s wants a value\n", k.c_str());
      return 2;
    }
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
    std::fprintf(stderr, "usage: nve_bench_xdp --object PATH [--routes N,N] [--runs N] [--veth]\n");
    return 2;
  }
  // The receive path: the two ends of the veth pair, and run-time
  // statistics on while stats_fd is open.
  unsigned xdp_if = kLoopback, gen_if = 0;
  int stats_fd = -1;
  std::optional<Generator> gen;
  if (veth) {
    if (auto why = private_veth_pair()) {
      std::fprintf(stderr, "nve_bench_xdp: --veth: %s\n", why->c_str());
      return 1;
    }
    xdp_if = if_nametoindex("nvx0");
    gen_if = if_nametoindex("nvg0");
    stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (stats_fd < 0) {
      std::fprintf(stderr, "nve_bench_xdp: bpf_enable_stats: %s\n", std::strerror(errno));
      return 1;
    }
    gen.emplace(gen_if);
  }
  for (uint32_t n : sizes) {
    for (const uint8_t family : {uint8_t{4}, uint8_t{6}}) {
      drivers::XdpProgram prog(object, n + 16);  // a fresh program and maps per size and family
      prog.set_port(0, xdp_if, dp::testbed::kFabricMac, 0);
      prog.set_port(1, 1001, dp::testbed::kAccessMac, 0);
      // The VM's port: out of the program's own interface on the receive
      // path (to the generator's end, whose stack drops it), never back in.
      prog.set_redirect(1, xdp_if);
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
      const std::string tag = n >= 1000000 ? std::to_string(n / 1000000) + "m" : std::to_string(n / 1000) + "k";
      const char *fam = family == 4 ? "ipv4" : "ipv6";
      if (gen) {
        const uint32_t encap_counter = family == 4 ? NVE_XDP_C_encap_ipv4_in_ipv4 : NVE_XDP_C_encap_ipv6_in_ipv6;
        const ReceivePath base = receive_path(prog.baseline_fd(), xdp_if, *gen, encap, runs / 4, prog, std::nullopt);
        const ReceivePath tunnel = receive_path(prog.program_fd(), xdp_if, *gen, encap, runs, prog, encap_counter);
        const ReceivePath local =
            receive_path(prog.program_fd(), xdp_if, *gen, deliver, runs / 4, prog, NVE_XDP_C_delivered_local);
        const double ns_encap = tunnel.ns - base.ns, ns_local = local.ns - base.ns;
        // Every measured run one of the benchmark's packets, taken as it should be.
        auto all = [](uint64_t got, int sent) { return got == static_cast<uint64_t>(sent); };
        const bool right = all(base.runs, runs / 4) && all(tunnel.runs, runs) && all(local.runs, runs / 4) &&
                           tunnel.counted == tunnel.runs && local.counted == local.runs;
        std::printf("# XDP on a veth receive path, %u %s routes: %s %.1f ns/packet, local delivery %.1f ns/packet "
                    "(kernel run-time statistics, less %.1f ns for an empty program); runs %" PRIu64 " / %" PRIu64
                    " / %" PRIu64 " (empty, tunnel, local) for %d / %d / %d frames, %" PRIu64 " encapsulated, %" PRIu64
                    " delivered\n",
                    n, family == 4 ? "IPv4" : "IPv6", family == 4 ? "IPv4-in-IPv4" : "IPv6-in-IPv6", ns_encap, ns_local,
                    base.ns, base.runs, tunnel.runs, local.runs, runs / 4, runs, runs / 4, tunnel.counted, local.counted);
        if (!right) {
          std::fprintf(stderr, "nve_bench_xdp: the receive path ran the program on other frames than the "
                               "benchmark's, or it did not take them as it should: no figures\n");
          return 1;
        }
        std::printf("RESULT xdp_rx_%s_encap_%s_ns %.1f ns\n", fam, tag.c_str(), ns_encap);
        std::printf("RESULT xdp_rx_%s_local_%s_ns %.1f ns\n", fam, tag.c_str(), ns_local);
        continue;
      }
      int wrong = 0;
      // What the test run costs around any program (an empty one), taken off.
      const double base = ns_per_packet(prog.baseline_fd(), encap, runs / 4, XDP_PASS, wrong);
      const double ns_encap = ns_per_packet(prog.program_fd(), encap, runs, XDP_TX, wrong) - base;
      const double ns_local = ns_per_packet(prog.program_fd(), deliver, runs / 4, XDP_REDIRECT, wrong) - base;
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
  if (stats_fd >= 0) close(stats_fd);
  return 0;
}

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {  // a map, an attachment or a socket refused: said, never an abort
    std::fprintf(stderr, "nve_bench_xdp: %s\n", e.what());
    return 1;
  }
}
