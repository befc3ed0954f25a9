#include "drivers/xdp/ethtool_stats.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace nvmove::drivers {
namespace {

// More than any driver has (mlx5 reports a few thousand): a larger count
// is a driver bug, not something to allocate for.
constexpr uint32_t kMaxStats = 1u << 16;

class EthtoolSocket {
 public:
  EthtoolSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~EthtoolSocket() {
    if (fd_ >= 0) close(fd_);
  }
  EthtoolSocket(const EthtoolSocket &) = delete;
  EthtoolSocket &operator=(const EthtoolSocket &) = delete;
  bool ok() const { return fd_ >= 0; }
  // One SIOCETHTOOL request on `interface`; errno on failure, else 0.
  int request(const std::string &interface, void *data) const {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char *>(data);
    return ioctl(fd_, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

std::string failure(const std::string &interface, const char *what, int error) {
  if (error == EOPNOTSUPP) return interface + ": its driver has no statistics (ethtool -S)";
  if (error == ENODEV) return interface + ": no such interface";
  return interface + ": " + what + ": " + std::strerror(error);
}

// The ioctl's strings and values: the kernel counts them again on each
// call and copies as many as it counts, whatever length we pass, so a count
// that grew since ETHTOOL_GSSET_INFO (channels added meanwhile) would be
// written past a buffer sized for the old one. Each buffer is mapped with
// room for twice the count and a guard page behind it that the kernel's
// copy faults on (EFAULT: the call fails, nothing is overwritten).
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t bytes) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t usable = (bytes + page - 1) / page * page;
    mapped_ = usable + page;
    void *p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    base_ = static_cast<uint8_t *>(p);
    if (mprotect(base_ + usable, page, PROT_NONE) != 0) {
      munmap(base_, mapped_);
      base_ = nullptr;
    }
  }
  ~GuardedBuffer() {
    if (base_) munmap(base_, mapped_);
  }
  GuardedBuffer(const GuardedBuffer &) = delete;
  GuardedBuffer &operator=(const GuardedBuffer &) = delete;
  uint8_t *data() const { return base_; }

 private:
  uint8_t *base_ = nullptr;
  size_t mapped_ = 0;
};

// The number of statistics the driver has now; 0 with `error` set on failure.
uint32_t stats_count(const EthtoolSocket &sock, const std::string &interface, int &error) {
  uint64_t buffer[(sizeof(ethtool_sset_info) + sizeof(uint32_t) + 7) / 8] = {};
  auto *sset = reinterpret_cast<ethtool_sset_info *>(buffer);
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ull << ETH_SS_STATS;
  error = sock.request(interface, sset);
  if (error) return 0;
  return (sset->sset_mask & (1ull << ETH_SS_STATS)) ? sset->data[0] : 0;
}

}  // namespace

std::variant<EthtoolStats, std::string> ethtool_stats(const std::string &interface) {
  if (interface.empty() || interface.size() >= IFNAMSIZ) return interface + ": not an interface name";
  EthtoolSocket sock;
  if (!sock.ok()) return std::string("socket: ") + std::strerror(errno);
  // Names and values come from separate calls: read again if the count
  // changed in between (names and values would not line up).
  for (int attempt = 0; attempt < 3; attempt++) {
    int error = 0;
    const uint32_t n = stats_count(sock, interface, error);
    if (error) return failure(interface, "ETHTOOL_GSSET_INFO", error);
    if (n == 0) return failure(interface, "ETHTOOL_GSSET_INFO", EOPNOTSUPP);  // none, as a driver without any says
    if (n > kMaxStats) return interface + ": the driver reports " + std::to_string(n) + " statistics";
    const size_t room = size_t{n} * 2;

    GuardedBuffer names(sizeof(ethtool_gstrings) + room * ETH_GSTRING_LEN);
    GuardedBuffer values(sizeof(::ethtool_stats) + room * sizeof(uint64_t));
    if (!names.data() || !values.data()) return interface + ": no memory for its statistics";
    auto *strings = reinterpret_cast<ethtool_gstrings *>(names.data());
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_STATS;
    strings->len = n;
    error = sock.request(interface, strings);
    if (error == EFAULT) continue;  // grew past the room meanwhile: again
    if (error) return failure(interface, "ETHTOOL_GSTRINGS", error);
    auto *stats = reinterpret_cast<::ethtool_stats *>(values.data());
    stats->cmd = ETHTOOL_GSTATS;
    stats->n_stats = n;
    error = sock.request(interface, stats);
    if (error == EFAULT) continue;
    if (error) return failure(interface, "ETHTOOL_GSTATS", error);
    if (strings->len != n || stats->n_stats != n) continue;  // changed between the calls

    EthtoolStats out;
    out.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      const char *name = reinterpret_cast<const char *>(strings->data) + size_t{i} * ETH_GSTRING_LEN;
      out.emplace_back(std::string(name, strnlen(name, ETH_GSTRING_LEN)), stats->data[i]);
    }
    return out;
  }
  return interface + ": its statistics kept changing while read (channels reconfigured?); try again";
}

}  // namespace nvmove::drivers
