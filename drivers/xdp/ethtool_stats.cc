#include "drivers/xdp/ethtool_stats.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
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

}  // namespace

std::variant<EthtoolStats, std::string> ethtool_stats(const std::string &interface) {
  if (interface.empty() || interface.size() >= IFNAMSIZ) return interface + ": not an interface name";
  EthtoolSocket sock;
  if (!sock.ok()) return std::string("socket: ") + std::strerror(errno);

  // How many: ETHTOOL_GSSET_INFO fills one count per set asked for.
  uint64_t sset_buffer[(sizeof(ethtool_sset_info) + sizeof(uint32_t) + 7) / 8] = {};
  auto *sset = reinterpret_cast<ethtool_sset_info *>(sset_buffer);
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ull << ETH_SS_STATS;
  if (int e = sock.request(interface, sset)) return failure(interface, "ETHTOOL_GSSET_INFO", e);
  const uint32_t n = (sset->sset_mask & (1ull << ETH_SS_STATS)) ? sset->data[0] : 0;
  if (n == 0) return interface + ": its driver has no statistics (ethtool -S)";
  if (n > kMaxStats) return interface + ": the driver reports " + std::to_string(n) + " statistics";

  std::vector<uint8_t> names(sizeof(ethtool_gstrings) + size_t{n} * ETH_GSTRING_LEN);
  auto *strings = reinterpret_cast<ethtool_gstrings *>(names.data());
  strings->cmd = ETHTOOL_GSTRINGS;
  strings->string_set = ETH_SS_STATS;
  strings->len = n;
  if (int e = sock.request(interface, strings)) return failure(interface, "ETHTOOL_GSTRINGS", e);

  std::vector<uint64_t> values((sizeof(::ethtool_stats) + sizeof(uint64_t) - 1) / sizeof(uint64_t) + n);
  auto *stats = reinterpret_cast<::ethtool_stats *>(values.data());
  stats->cmd = ETHTOOL_GSTATS;
  stats->n_stats = n;
  if (int e = sock.request(interface, stats)) return failure(interface, "ETHTOOL_GSTATS", e);

  // The driver may have reported fewer than it counted (a queue gone meanwhile).
  const uint32_t got = std::min({n, strings->len, stats->n_stats});
  EthtoolStats out;
  out.reserve(got);
  for (uint32_t i = 0; i < got; i++) {
    const char *name = reinterpret_cast<const char *>(strings->data) + size_t{i} * ETH_GSTRING_LEN;
    out.emplace_back(std::string(name, strnlen(name, ETH_GSTRING_LEN)), stats->data[i]);
  }
  return out;
}

}  // namespace nvmove::drivers
