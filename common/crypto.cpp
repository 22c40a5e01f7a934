#include "common/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <zmq.hpp>

#include "common/fs.h"

namespace slipway::crypto {
namespace {

constexpr char kZapDomain[] = "slipway";

Status set_option(zmq::socket_t& socket, int option, const void* value, size_t size) {
  if (zmq_setsockopt(socket.handle(), option, value, size) != 0) {
    return Error(Code::kInternal,
                 std::string("cannot set CURVE option on socket: ") + zmq_strerror(zmq_errno()));
  }
  return ok_status();
}

// Extracts the quoted value of `name = "..."` from a key file line.
bool parse_line(std::string_view line, std::string_view name, std::string* value) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.substr(0, name.size()) != name) return false;
  line.remove_prefix(name.size());
  size_t open = line.find('"');
  size_t close = line.rfind('"');
  if (open == std::string_view::npos || close == open) return false;
  if (line.substr(0, open).find_first_not_of(" \t=") != std::string_view::npos) return false;
  *value = std::string(line.substr(open + 1, close - open - 1));
  return true;
}

}  // namespace

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) abort();  // libsodium cannot work without entropy
  });
}

Result<KeyPair> generate_keypair() {
  init();
  char pub[kKeyTextSize + 1];
  char sec[kKeyTextSize + 1];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Error(Code::kInternal,
                 std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()));
  }
  KeyPair keys{pub, sec};
  sodium_memzero(sec, sizeof sec);
  return keys;
}

bool is_valid_key(std::string_view text) {
  if (text.size() != kKeyTextSize) return false;
  std::string copy(text);
  uint8_t raw[32];
  return zmq_z85_decode(raw, copy.c_str()) != nullptr;
}

Result<std::string> public_key_of(std::string_view secret_key) {
  init();
  if (!is_valid_key(secret_key))
    return Error(Code::kInvalidArgument, "not a valid CURVE secret key");
  std::string secret(secret_key);
  char pub[kKeyTextSize + 1];
  if (zmq_curve_public(pub, secret.c_str()) != 0) {
    wipe(secret);
    return Error(Code::kInternal, "cannot derive the public key");
  }
  wipe(secret);
  return std::string(pub);
}

std::string key_to_text(std::string_view raw32) {
  char text[kKeyTextSize + 1];
  if (raw32.size() != 32 ||
      zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(raw32.data()), 32) == nullptr) {
    return {};
  }
  return text;
}

Status save_keypair(const std::string& path, const KeyPair& keys) {
  std::string body =
      "# Slipway CURVE key pair. Keep this file secret (mode 0600).\n"
      "public-key = \"" +
      keys.public_key +
      "\"\n"
      "secret-key = \"" +
      keys.secret_key + "\"\n";
  Status status = fs::write_file_atomic(path, body, 0600);
  wipe(body);
  return status;
}

Result<KeyPair> load_keypair(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error(errno == ENOENT ? Code::kNotFound : Code::kIo,
                 "cannot read key file " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error(Code::kPermissionDenied, "key file " + path +
                                              " is readable by group or others (mode " + mode +
                                              "); make it mode 0600");
  }
  SLIPWAY_ASSIGN_OR_RETURN(std::string body, fs::read_file(path, 4096));
  KeyPair keys;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    std::string_view line(body.data() + start, end - start);
    std::string value;
    if (parse_line(line, "public-key", &value)) keys.public_key = value;
    if (parse_line(line, "secret-key", &value)) keys.secret_key = value;
    start = end + 1;
  }
  wipe(body);
  if (!is_valid_key(keys.public_key) || !is_valid_key(keys.secret_key)) {
    return Error(Code::kInvalidArgument, "key file " + path + " does not hold a valid key pair");
  }
  auto derived = public_key_of(keys.secret_key);
  if (!derived.ok() || *derived != keys.public_key) {
    return Error(Code::kInvalidArgument,
                 "key file " + path + ": the public key does not match the secret key");
  }
  return keys;
}

Result<KeyPair> load_or_create_keypair(const std::string& path, bool* created) {
  if (created) *created = false;
  auto loaded = load_keypair(path);
  if (loaded.ok() || loaded.error().code() != Code::kNotFound) return loaded;
  SLIPWAY_ASSIGN_OR_RETURN(KeyPair keys, generate_keypair());
  SLIPWAY_RETURN_IF_ERROR(save_keypair(path, keys));
  if (created) *created = true;
  return keys;
}

Status make_curve_server(zmq::socket_t& socket, const KeyPair& keys) {
  int one = 1;
  SLIPWAY_RETURN_IF_ERROR(set_option(socket, ZMQ_CURVE_SERVER, &one, sizeof one));
  SLIPWAY_RETURN_IF_ERROR(
      set_option(socket, ZMQ_CURVE_SECRETKEY, keys.secret_key.data(), keys.secret_key.size()));
  return set_option(socket, ZMQ_ZAP_DOMAIN, kZapDomain, sizeof kZapDomain - 1);
}

Status make_curve_client(zmq::socket_t& socket, const KeyPair& keys, std::string_view server_key) {
  if (!is_valid_key(server_key)) {
    return Error(Code::kInvalidArgument, "the controller's public key is not a valid CURVE key");
  }
  SLIPWAY_RETURN_IF_ERROR(
      set_option(socket, ZMQ_CURVE_SERVERKEY, server_key.data(), server_key.size()));
  SLIPWAY_RETURN_IF_ERROR(
      set_option(socket, ZMQ_CURVE_PUBLICKEY, keys.public_key.data(), keys.public_key.size()));
  return set_option(socket, ZMQ_CURVE_SECRETKEY, keys.secret_key.data(), keys.secret_key.size());
}

namespace {
std::string random_from(std::string_view alphabet, size_t count) {
  init();
  std::string out(count, '\0');
  for (auto& c : out) c = alphabet[randombytes_uniform(static_cast<uint32_t>(alphabet.size()))];
  return out;
}
}  // namespace

std::string random_alphanumeric(size_t count) {
  return random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", count);
}

std::string random_id(size_t count) {
  return random_from("abcdefghijklmnopqrstuvwxyz0123456789", count);
}

std::string digest_hex(std::string_view data) {
  init();
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : hash) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

uint32_t random_below(uint32_t bound) {
  init();
  return randombytes_uniform(bound);
}

void wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

}  // namespace slipway::crypto
