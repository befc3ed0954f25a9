// Pre-shared HMAC keys per peer, and the key file they are loaded from.
//
// File format (docs/protocol.md section 6.2), one key per line:
//     <peer address> <key id> <hex key>     # comment
// The key id is decimal, 1..4294967295; the key is 32 to 64 bytes in hex.
// A peer may have several keys (rollover): all are accepted on receipt, and
// the one listed last is used for sending.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol/auth.h"
#include "control/protocol/message.h"
#include "control/protocol/result.h"

namespace nvmove::proto {

struct KeyFileError {
  std::string message;  // "<file>:<line>: <what is wrong>"; never contains key material
};

class KeyTable {
 public:
  // False (and nothing added) if the peer already has a key with this id.
  bool add(const IpAddress &peer, AuthKey key);
  const AuthKey *find(const IpAddress &peer, uint32_t key_id) const;
  const AuthKey *sending_key(const IpAddress &peer) const;
  size_t size() const;

 private:
  std::map<IpAddress, std::vector<AuthKey>> keys_;  // in file order per peer
};

// Refuses, as ssh does for private keys, a file that group or others can
// read, write or execute, and one owned by neither `reader` nor root.
std::optional<std::string> key_file_permission_problem(mode_t mode, uid_t owner, uid_t reader);

// Parses key file text; `origin` names it in errors.
Result<KeyTable, KeyFileError> parse_key_file(std::string_view text, std::string_view origin);

// Opens, checks the permissions of (as the effective user) and parses `path`.
Result<KeyTable, KeyFileError> load_key_file(const std::string &path);

}  // namespace nvmove::proto
