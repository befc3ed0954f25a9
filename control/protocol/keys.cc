#include "control/protocol/keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "control/protocol/address_text.h"

namespace nvmove::proto {
namespace {

// Far above any real deployment (a line is ~170 bytes), low enough that a
// wrong path (a log file, /dev/zero) fails fast instead of eating memory.
constexpr off_t kMaxKeyFileBytes = 1 << 20;

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r')) pos++;
    size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t' && line[pos] != '\r') pos++;
    if (pos > start) fields.push_back(line.substr(start, pos - start));
  }
  return fields;
}

std::optional<uint32_t> parse_key_id(std::string_view text) {
  uint32_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id, 10);
  if (ec != std::errc() || end != text.data() + text.size() || id == 0) return std::nullopt;
  return id;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::vector<uint8_t>> parse_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> bytes;
  bytes.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = hex_digit(text[i]), low = hex_digit(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<uint8_t>(high << 4 | low));
  }
  return bytes;
}

KeyFileError line_error(std::string_view origin, size_t line_number, const std::string &what) {
  return KeyFileError{std::string(origin) + ":" + std::to_string(line_number) + ": " + what};
}

std::optional<KeyFileError> parse_line(std::string_view line, std::string_view origin,
                                       size_t line_number, KeyTable &table) {
  line = line.substr(0, line.find('#'));
  auto fields = split_fields(line);
  if (fields.empty()) return std::nullopt;
  if (fields.size() != 3)
    return line_error(origin, line_number,
                      "expected '<peer address> <key id> <hex key>', found " +
                          std::to_string(fields.size()) + " fields");
  auto peer = parse_ip_address(fields[0]);
  if (!peer)
    return line_error(origin, line_number,
                      "'" + std::string(fields[0]) + "' is not an IPv4 or IPv6 address");
  auto key_id = parse_key_id(fields[1]);
  if (!key_id)
    return line_error(origin, line_number,
                      "key id '" + std::string(fields[1]) + "' is not a number from 1 to 4294967295");
  auto secret = parse_hex(fields[2]);
  if (!secret)
    return line_error(origin, line_number, "key is not an even number of hex digits");
  AuthKey key{*key_id, std::move(*secret)};
  if (auto problem = key_problem(key)) return line_error(origin, line_number, *problem);
  if (!table.add(*peer, std::move(key)))
    return line_error(origin, line_number,
                      "key id " + std::string(fields[1]) + " is listed twice for " +
                          std::string(fields[0]));
  return std::nullopt;
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Reads the whole file; the caller has bounded its size.
std::optional<std::string> read_all(int fd, size_t size) {
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, data.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;  // shrank while reading: parse what is there
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

}  // namespace

bool KeyTable::add(const IpAddress &peer, AuthKey key) {
  auto &peer_keys = keys_[peer];
  bool taken = std::ranges::any_of(peer_keys, [&](const AuthKey &k) { return k.key_id == key.key_id; });
  if (taken) return false;
  peer_keys.push_back(std::move(key));
  return true;
}

const AuthKey *KeyTable::find(const IpAddress &peer, uint32_t key_id) const {
  auto it = keys_.find(peer);
  if (it == keys_.end()) return nullptr;
  auto key = std::ranges::find(it->second, key_id, &AuthKey::key_id);
  return key == it->second.end() ? nullptr : &*key;
}

const AuthKey *KeyTable::sending_key(const IpAddress &peer) const {
  auto it = keys_.find(peer);
  if (it == keys_.end() || it->second.empty()) return nullptr;
  return &it->second.back();
}

size_t KeyTable::size() const {
  size_t count = 0;
  for (const auto &[peer, peer_keys] : keys_) count += peer_keys.size();
  return count;
}

std::optional<std::string> key_file_permission_problem(mode_t mode, uid_t owner, uid_t reader) {
  if (mode & (S_IRWXG | S_IRWXO))
    return "mode " + octal_mode(mode) +
           " lets group or others access the key file; it must be 0600 or 0400 (chmod 600)";
  if (owner != reader && owner != 0)
    return "owned by uid " + std::to_string(owner) + "; it must be owned by uid " +
           std::to_string(reader) + " (the user reading it) or by root";
  return std::nullopt;
}

Result<KeyTable, KeyFileError> parse_key_file(std::string_view text, std::string_view origin) {
  KeyTable table;
  size_t line_number = 0;
  while (!text.empty()) {
    line_number++;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (auto err = parse_line(line, origin, line_number, table)) return *err;
  }
  if (table.size() == 0) return KeyFileError{std::string(origin) + ": no keys"};
  return table;
}

Result<KeyTable, KeyFileError> load_key_file(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return KeyFileError{path + ": cannot open: " + std::strerror(errno)};
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int saved = errno;
    close(fd);
    return KeyFileError{path + ": cannot stat: " + std::strerror(saved)};
  }
  // fstat on the open descriptor: the file checked is the file read.
  std::optional<std::string> problem;
  if (!S_ISREG(st.st_mode)) problem = "not a regular file";
  else if (st.st_size > kMaxKeyFileBytes) problem = "larger than 1 MiB, not a key file";
  else problem = key_file_permission_problem(st.st_mode, st.st_uid, geteuid());
  if (problem) {
    close(fd);
    return KeyFileError{path + ": " + *problem};
  }
  auto text = read_all(fd, static_cast<size_t>(st.st_size));
  int saved = errno;
  close(fd);
  if (!text) return KeyFileError{path + ": cannot read: " + std::strerror(saved)};
  auto table = parse_key_file(*text, path);
  OPENSSL_cleanse(text->data(), text->size());  // do not leave key text on the heap
  return table;
}

}  // namespace nvmove::proto
