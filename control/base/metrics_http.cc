#include "control/base/metrics_http.h"

#include "control/base/yaml_fields.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace nvmove {

namespace {

// One request: MHD calls this at least twice (headers, then once more per
// body chunk); a GET has no body, so the first call with a connection
// context set is where the page is queued.
MHD_Result on_request(void *cls, MHD_Connection *connection, const char *url, const char *method, const char *,
                      const char *, size_t *upload_size, void **context) {
  static int first_call_marker;
  if (*context == nullptr) {
    *context = &first_call_marker;
    return MHD_YES;
  }
  if (*upload_size != 0) {  // a body nobody asked for: ignored
    *upload_size = 0;
    return MHD_YES;
  }
  auto *self = static_cast<MetricsHttp *>(cls);
  const MetricsHttp::Page page = self->answer(method, url);
  MHD_Response *response =
      MHD_create_response_from_buffer(page.body.size(), const_cast<char *>(page.body.data()), MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", page.content_type.c_str());
  if (page.status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(response, "Allow", "GET, HEAD");
  const MHD_Result queued = MHD_queue_response(connection, page.status, response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

MetricsHttpConfig read_metrics_config(YamlSection &section) {
  MetricsHttpConfig config;
  if (!section.node().IsDefined()) return config;
  const bool complete = section.require("address") & section.require("port");
  const auto address = section.address("address");
  const auto port = section.number("port", 1, 65535);
  if (complete && address && port) {
    config.address = *address;
    config.port = static_cast<uint16_t>(*port);
  }
  section.reject_unknown_keys();
  return config;
}

MetricsHttp::MetricsHttp(const MetricsHttpConfig &config, Render render)
    : config_(config), render_(std::move(render)) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  // No MHD_USE_*_THREAD*: poll() drives it. epoll, not select(): a DPDK
  // process holds many fds, and select() refuses any numbered 1024 or more.
  unsigned flags = MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
  if (config.address.is_v4()) {
    auto *a = reinterpret_cast<sockaddr_in *>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(config.port);
    std::memcpy(&a->sin_addr, config.address.bytes.data(), 4);
    len = sizeof *a;
  } else {
    auto *a = reinterpret_cast<sockaddr_in6 *>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(config.port);
    std::memcpy(&a->sin6_addr, config.address.bytes.data(), 16);
    len = sizeof *a;
    flags |= MHD_USE_IPv6;
  }
  (void)len;
  daemon_ = MHD_start_daemon(flags, config.port, nullptr, nullptr, &on_request, this, MHD_OPTION_SOCK_ADDR,
                             reinterpret_cast<sockaddr *>(&addr), MHD_OPTION_CONNECTION_LIMIT, 16u,
                             MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  if (!daemon_)
    throw std::runtime_error("metrics endpoint " + where() +
                             ": libmicrohttpd could not start (is the address local and the port free?)");
}

MetricsHttp::~MetricsHttp() {
  if (daemon_) MHD_stop_daemon(daemon_);
}

void MetricsHttp::poll() {
  if (daemon_) MHD_run(daemon_);
}

int MetricsHttp::fd() const {
  const MHD_DaemonInfo *info = daemon_ ? MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_LISTEN_FD) : nullptr;
  return info ? info->listen_fd : -1;
}

std::string MetricsHttp::where() const {
  const std::string a = config_.address.to_string();
  return (config_.address.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(config_.port);
}

MetricsHttp::Page MetricsHttp::answer(const std::string &method, const std::string &url) {
  if (url != "/metrics") return {MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "only /metrics is served here\n"};
  if (method != "GET" && method != "HEAD")
    return {MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET /metrics\n"};
  scrapes_++;
  return {MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", render_()};
}

}  // namespace nvmove
