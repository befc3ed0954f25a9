// nvad-migrate: copies an nvad SQLite store into etcd, for the move of a
// management node from the embedded store to a cluster (docs/nvad.md
// "Moving a SQLite store into etcd"). Run it with nvad stopped.
//
//   nvad-migrate --sqlite /var/lib/nvmove/nvad.db --etcd http://127.0.0.1:2379[,http://...]
//                [--prefix /nvmove/nvad/] [--cacert CA.pem] [--cert CERT.pem --key KEY.pem] [--force]
//
// Refuses when the prefix already holds bindings (another cluster's, or an
// earlier run's) unless --force. Each transaction is all or nothing and
// never overwrites a key that appeared after this tool looked (etcd_store.h).
// Exit status: 0 copied, 1 failed, 2 bad arguments.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "control/base/clock.h"
#include "control/etcd/etcd_client.h"
#include "control/nvad/etcd_store.h"
#include "control/nvad/store.h"

namespace {

using namespace nvmove;

int usage(const std::string &why) {
  std::fprintf(stderr,
               "nvad-migrate: %s\n"
               "usage: nvad-migrate --sqlite <nvad.db> --etcd <url>[,<url>...] [--prefix /nvmove/nvad/]\n"
               "                    [--cacert CA.pem] [--cert CERT.pem --key KEY.pem] [--force]\n",
               why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> opt = {{"prefix", "/nvmove/nvad/"}};
  bool force = false;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--force") {
      force = true;
    } else if ((arg == "--sqlite" || arg == "--etcd" || arg == "--prefix" || arg == "--cacert" || arg == "--cert" ||
                arg == "--key") &&
               i + 1 < argc) {
      opt[arg.substr(2)] = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      usage("copies an nvad SQLite store into etcd");
      return 0;
    } else {
      return usage("unexpected argument '" + arg + "'");
    }
  }
  if (!opt.contains("sqlite") || !opt.contains("etcd")) return usage("--sqlite and --etcd are required");
  if (opt["prefix"].empty() || opt["prefix"].back() != '/') return usage("--prefix must end with '/'");
  etcd::ClientOptions client_options;
  std::stringstream endpoints(opt["etcd"]);
  for (std::string url; std::getline(endpoints, url, ',');)
    if (!url.empty()) client_options.endpoints.push_back(url);
  if (client_options.endpoints.empty()) return usage("--etcd names no endpoint");
  if (opt.contains("cert") != opt.contains("key")) return usage("--cert and --key go together");
  client_options.ca_file = opt["cacert"];
  client_options.cert_file = opt["cert"];
  client_options.key_file = opt["key"];

  std::error_code ec;
  if (!std::filesystem::is_regular_file(opt["sqlite"], ec)) {  // opening would create an empty one
    std::fprintf(stderr, "nvad-migrate: %s: no such SQLite store\n", opt["sqlite"].c_str());
    return 1;
  }
  SystemClock clock;
  auto sqlite = nvad::open_sqlite_store(opt["sqlite"], clock);
  if (!sqlite) {
    std::fprintf(stderr, "nvad-migrate: %s\n", sqlite.error().message.c_str());
    return 1;
  }
  auto state = sqlite.value()->load();
  if (!state) {
    std::fprintf(stderr, "nvad-migrate: %s\n", state.error().message.c_str());
    return 1;
  }
  etcd::Client client(client_options);
  nvad::EtcdStore etcd_store(client, opt["prefix"], clock);
  auto existing = etcd_store.load();  // also records the revisions the writes compare with
  if (!existing) {
    std::fprintf(stderr, "nvad-migrate: %s\n", existing.error().message.c_str());
    return 1;
  }
  if (!existing->bindings.empty() && !force) {
    std::fprintf(stderr,
                 "nvad-migrate: %s already holds %zu binding(s) in etcd; not copying over them (--force to merge, "
                 "the SQLite store's version of a binding winning)\n",
                 opt["prefix"].c_str(), existing->bindings.size());
    return 1;
  }
  std::vector<nvad::StoreWrite> writes;
  for (auto &[peer, peer_state] : state->peers) writes.push_back(nvad::PutPeerState{peer, peer_state});
  for (auto &binding : state->bindings) writes.push_back(nvad::PutBinding{binding});
  if (auto error = etcd_store.apply(writes)) {
    std::fprintf(stderr, "nvad-migrate: %s (what was written before stays; run again with --force)\n",
                 error->message.c_str());
    return 1;
  }
  std::printf("copied %zu binding(s) and %zu peer(s) from %s to %s under %s\n", state->bindings.size(),
              state->peers.size(), opt["sqlite"].c_str(), client.current_endpoint().c_str(), opt["prefix"].c_str());
  return 0;
}
