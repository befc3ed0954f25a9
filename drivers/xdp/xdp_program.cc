#include "drivers/xdp/xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace nvmove::drivers {

namespace {

// libbpf's messages (the verifier's log among them) go into the exception
// rather than to stderr.
thread_local std::string g_libbpf_log;
int collect_log(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  std::vsnprintf(line, sizeof line, fmt, args);
  if (g_libbpf_log.size() < 64 * 1024) g_libbpf_log += line;
  return 0;
}

void check(int rc, const std::string &what) {
  if (rc < 0) throw std::runtime_error(what + ": " + std::strerror(rc == -1 ? errno : -rc));
}

// Every key of the hash map `fd`, in the kernel's order.
template <typename Key>
std::vector<Key> keys_of(int fd) {
  std::vector<Key> keys;
  Key key{}, next{};
  for (const void *prev = nullptr; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &key) {
    keys.push_back(next);
    key = next;
  }
  return keys;
}

bool on_bpffs(const std::string &path) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

// `dir` made on a BPF filesystem, /sys/fs/bpf mounted first if it is not
// one (as iproute2 and bpftool do). Throws if `dir` is elsewhere.
void prepare_pin_dir(const std::string &dir) {
  if (!on_bpffs("/sys/fs/bpf")) {
    std::error_code ec;
    std::filesystem::create_directories("/sys/fs/bpf", ec);
    if (mount("bpffs", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0)
      throw std::runtime_error(std::string("cannot mount a BPF filesystem on /sys/fs/bpf: ") + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("pin directory " + dir + ": " + ec.message());
  if (!on_bpffs(dir)) throw std::runtime_error("pin directory " + dir + " is not on a BPF filesystem (use /sys/fs/bpf/...)");
}

}  // namespace

XdpProgram::XdpProgram(const std::string &path, uint32_t route_capacity, const std::string &pin_dir)
    : route_capacity_(route_capacity), pin_dir_(pin_dir) {
  if (!pin_dir_.empty()) prepare_pin_dir(pin_dir_);
  g_libbpf_log.clear();
  libbpf_set_print(collect_log);
  obj_ = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj_)
    throw std::runtime_error("cannot open XDP object " + path + ": " + std::strerror(errno) + "\n" + g_libbpf_log);
  auto fail = [&](const std::string &why) {
    bpf_object__close(obj_);
    obj_ = nullptr;
    throw std::runtime_error(why);
  };
  if (bpf_map *m = bpf_object__find_map_by_name(obj_, "nve_routes");
      !m || bpf_map__set_max_entries(m, route_capacity) != 0)
    fail(path + ": cannot size map nve_routes");
  if (!pin_dir_.empty()) {
    // libbpf reuses a map pinned at its path if it fits (type, key, value,
    // size, flags), else refuses to load: never two maps for one route table.
    bpf_map *m;
    bpf_object__for_each_map(m, obj_) {
      if (bpf_map__is_internal(m)) continue;  // .rodata: the program's own constants
      if (bpf_map__type(m) == BPF_MAP_TYPE_DEVMAP) continue;  // nve_tx_ports: refilled each time (nve_xdp.bpf.c)
      const std::string pin = pin_dir_ + "/" + bpf_map__name(m);
      took_over_ = took_over_ || std::filesystem::exists(pin);
      if (bpf_map__set_pin_path(m, pin.c_str()) != 0) fail("cannot pin map at " + pin);
    }
  }
  if (int rc = bpf_object__load(obj_); rc != 0)
    fail("cannot load XDP object " + path + ": " + std::strerror(-rc) +
         (took_over_ ? " (the maps pinned at " + pin_dir_ +
                           " do not fit this program or route_table.capacity: an upgrade that changed them, or "
                           "another capacity; remove the directory to start empty, which stops forwarding until "
                           "this program is attached)"
                     : std::string()) +
         "\n" + g_libbpf_log);
  bpf_program *prog = bpf_object__find_program_by_name(obj_, "nve_xdp");
  if (!prog) fail(path + ": no program nve_xdp");
  prog_fd_ = bpf_program__fd(prog);
  if (bpf_program *base = bpf_object__find_program_by_name(obj_, "nve_xdp_baseline")) baseline_fd_ = bpf_program__fd(base);
  bpf_map *m;
  bpf_object__for_each_map(m, obj_) maps_[bpf_map__name(m)] = bpf_map__fd(m);
}

XdpProgram::~XdpProgram() {
  if (obj_) bpf_object__close(obj_);
}

void XdpProgram::unpin() {
  if (pin_dir_.empty() || !obj_) return;
  bpf_object__unpin_maps(obj_, nullptr);
  // Maps an older nvxdp pinned that this one has not (nve_port_by_if before
  // the port scan): ours too, gone with the rest.
  std::error_code ec;
  for (const auto &e : std::filesystem::directory_iterator(pin_dir_, ec))
    if (e.path().filename().string().rfind("nve_", 0) == 0) std::filesystem::remove(e.path(), ec);
  std::filesystem::remove(pin_dir_, ec);  // only if empty: nothing else was there
}

int XdpProgram::map_fd(const char *name) const {
  auto it = maps_.find(name);
  if (it == maps_.end()) throw std::runtime_error(std::string("XDP object has no map ") + name);
  return it->second;
}

void XdpProgram::set_port(uint32_t index, uint32_t ifindex, const MacAddress &mac, uint32_t vn, uint16_t vlan) {
  nve_xdp_port p{};
  p.ifindex = ifindex;
  p.vn = vn;
  std::memcpy(p.mac, mac.data(), 6);
  p.vlan = vlan;
  check(bpf_map_update_elem(map_fd("nve_ports"), &index, &p, BPF_ANY), "nve_ports");
}

void XdpProgram::set_trace(uint32_t index, int32_t packets) {
  nve_xdp_port p{};
  check(bpf_map_lookup_elem(map_fd("nve_ports"), &index, &p), "nve_ports");
  p.trace = packets;  // (the program counts it down in place; a whole-entry write is what the map offers)
  check(bpf_map_update_elem(map_fd("nve_ports"), &index, &p, BPF_ANY), "nve_ports");
}

std::vector<uint32_t> XdpProgram::port_interfaces() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < NVE_XDP_MAX_PORTS; i++) {
    nve_xdp_port p{};
    if (bpf_map_lookup_elem(map_fd("nve_ports"), &i, &p) == 0 && p.ifindex) out.push_back(p.ifindex);
  }
  return out;
}

void XdpProgram::clear_ports_except(std::span<const uint32_t> indexes) {
  for (uint32_t i = 0; i < NVE_XDP_MAX_PORTS; i++) {
    if (std::find(indexes.begin(), indexes.end(), i) != indexes.end()) continue;
    const nve_xdp_port none{};
    check(bpf_map_update_elem(map_fd("nve_ports"), &i, &none, BPF_ANY), "nve_ports");
  }
}

void XdpProgram::set_redirect(uint32_t index, uint32_t ifindex) {
  check(bpf_map_update_elem(map_fd("nve_tx_ports"), &index, &ifindex, BPF_ANY), "nve_tx_ports");
}

void XdpProgram::set_settings(const nve_xdp_settings &s) {
  const uint32_t zero = 0;
  check(bpf_map_update_elem(map_fd("nve_settings"), &zero, &s, BPF_ANY), "nve_settings");
}

void XdpProgram::set_nve(uint32_t index, const nve_xdp_nve &nve) {
  check(bpf_map_update_elem(map_fd("nve_nves"), &index, &nve, BPF_ANY), "nve_nves");
}

void XdpProgram::set_route(const nve_xdp_key &key, const nve_xdp_route &route) {
  check(bpf_map_update_elem(map_fd("nve_routes"), &key, &route, BPF_ANY), "nve_routes");
}

void XdpProgram::set_routes(std::span<const nve_xdp_key> keys, std::span<const nve_xdp_route> routes) {
  if (keys.size() != routes.size()) throw std::invalid_argument("set_routes: as many keys as routes");
  uint32_t count = static_cast<uint32_t>(keys.size());
  check(bpf_map_update_batch(map_fd("nve_routes"), keys.data(), routes.data(), &count, nullptr), "nve_routes (batch)");
}

void XdpProgram::delete_route(const nve_xdp_key &key) {
  const int rc = bpf_map_delete_elem(map_fd("nve_routes"), &key);
  if (rc != 0 && errno != ENOENT) check(rc, "nve_routes (delete)");
}

std::vector<nve_xdp_key> XdpProgram::route_keys() const { return keys_of<nve_xdp_key>(map_fd("nve_routes")); }

nve_xdp_nve XdpProgram::nve(uint32_t index) const {
  nve_xdp_nve n{};
  check(bpf_map_lookup_elem(map_fd("nve_nves"), &index, &n), "nve_nves");
  return n;
}

std::optional<nve_xdp_route> XdpProgram::route(const nve_xdp_key &key) const {
  nve_xdp_route r{};
  if (bpf_map_lookup_elem(map_fd("nve_routes"), &key, &r) == 0) return r;
  if (errno != ENOENT) check(-1, "nve_routes (lookup)");
  return std::nullopt;
}

std::vector<std::pair<nve_xdp_key, nve_xdp_route>> XdpProgram::routes_all() const {
  constexpr uint32_t kBatch = 10000;
  std::vector<std::pair<nve_xdp_key, nve_xdp_route>> out;
  std::vector<nve_xdp_key> keys(kBatch);
  std::vector<nve_xdp_route> values(kBatch);
  uint32_t token = 0;
  const int fd = map_fd("nve_routes");
  for (bool first = true;; first = false) {
    uint32_t count = kBatch;
    const int rc = bpf_map_lookup_batch(fd, first ? nullptr : &token, &token, keys.data(), values.data(), &count, nullptr);
    const int err = errno;
    for (uint32_t i = 0; i < count; i++) out.emplace_back(keys[i], values[i]);
    if (rc == 0) continue;
    if (err == ENOENT) break;  // (the last batch: its entries are in)
    check(rc, "nve_routes (batch lookup)");
  }
  return out;
}

std::vector<std::vector<uint64_t>> XdpProgram::counters_per_cpu() const {
  const int cpus = libbpf_num_possible_cpus();
  check(cpus, "number of possible CPUs");
  // One struct nve_xdp_counters per possible CPU (a multiple of 8 bytes, as
  // the kernel lays per-CPU values out).
  std::vector<nve_xdp_counters> per_cpu(static_cast<size_t>(cpus));
  const uint32_t zero = 0;
  check(bpf_map_lookup_elem(map_fd("nve_counters"), &zero, per_cpu.data()), "nve_counters");
  std::vector<std::vector<uint64_t>> out;
  for (const auto &v : per_cpu) out.emplace_back(v.c, v.c + NVE_XDP_COUNTERS);
  return out;
}

uint64_t XdpProgram::counter(uint32_t c) const {
  if (c >= NVE_XDP_COUNTERS) throw std::out_of_range("no XDP counter " + std::to_string(c));
  uint64_t sum = 0;
  for (const auto &cpu : counters_per_cpu()) sum += cpu[c];
  return sum;
}

XdpProgram::RunResult XdpProgram::run(std::span<const uint8_t> packet, uint32_t ifindex) const {
  RunResult r;
  r.out.resize(packet.size() + 256);
  xdp_md ctx_in{};
  ctx_in.data_end = static_cast<uint32_t>(packet.size());
  ctx_in.ingress_ifindex = ifindex;
  // (C++ wants the designators in declaration order.)
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_out = r.out.data(),
              .data_size_in = static_cast<uint32_t>(packet.size()), .data_size_out = static_cast<uint32_t>(r.out.size()),
              .ctx_in = &ctx_in, .ctx_size_in = sizeof ctx_in, .repeat = 1);
  check(bpf_prog_test_run_opts(prog_fd_, &opts), "bpf_prog_test_run_opts");
  r.verdict = opts.retval;
  r.out.resize(opts.data_size_out);
  return r;
}

nve_xdp_key xdp_key(uint32_t vn, const IpAddress &address) {
  nve_xdp_key k{};
  k.vn = vn;
  k.family = address.family;
  std::memcpy(k.addr, address.bytes.data(), address.is_v4() ? 4 : 16);
  return k;
}

}  // namespace nvmove::drivers
