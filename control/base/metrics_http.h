// A Prometheus scrape endpoint: GET /metrics over HTTP, served by
// libmicrohttpd (Debian's libmicrohttpd-dev; no HTTP parsing of our own).
//
// MHD runs without a thread of its own: the daemon's loop calls poll() on
// every pass, which accepts, reads and writes whatever is ready without
// blocking (MHD's sockets are non-blocking). The page is therefore rendered
// in the thread that owns the counters (nved's control thread, nvad's loop):
// no lock, no copy, and a slow or vanished scraper costs nothing but a
// connection slot (MHD drops it after the connection timeout).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/net_types.h"

struct MHD_Daemon;

namespace nvmove {

struct MetricsHttpConfig {
  IpAddress address;  // family 0: disabled
  uint16_t port = 0;
};

class YamlSection;
// The `metrics:` section both daemons share: {address: A, port: P} (both
// required when the section is there). Errors go to the section's list.
MetricsHttpConfig read_metrics_config(YamlSection &section);

class MetricsHttp {
 public:
  using Render = std::function<std::string()>;

  // Binds and listens; throws std::runtime_error with the reason.
  MetricsHttp(const MetricsHttpConfig &config, Render render);
  ~MetricsHttp();
  MetricsHttp(const MetricsHttp &) = delete;
  MetricsHttp &operator=(const MetricsHttp &) = delete;

  // Serves what is ready; never blocks.
  void poll();
  // The listening socket (for a poll() set), and where it listens.
  int fd() const;
  std::string where() const;

  uint64_t scrapes() const { return scrapes_; }

  // The answer to one request (also called by MHD's callback).
  struct Page {
    unsigned status;
    std::string content_type, body;
  };
  Page answer(const std::string &method, const std::string &url);

 private:
  MetricsHttpConfig config_;
  Render render_;
  MHD_Daemon *daemon_ = nullptr;
  uint64_t scrapes_ = 0;
};

}  // namespace nvmove
