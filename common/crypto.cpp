#include "common/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/fs.h"

namespace slipway::crypto {
namespace {

// Z85 (ZeroMQ RFC 32): four bytes, big-endian, as five characters.
constexpr char kZ85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

int z85_digit(char c) {
  const char* at = c == '\0' ? nullptr : std::strchr(kZ85, c);
  return at == nullptr ? -1 : static_cast<int>(at - kZ85);
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
  uint8_t pub[32];
  uint8_t sec[32];
  crypto_box_keypair(pub, sec);
  KeyPair keys{key_to_text(std::string_view(reinterpret_cast<char*>(pub), 32)),
               key_to_text(std::string_view(reinterpret_cast<char*>(sec), 32))};
  wipe(sec, sizeof sec);
  return keys;
}

bool key_from_text(std::string_view text, uint8_t raw[32]) {
  if (text.size() != kKeyTextSize) return false;
  for (size_t chunk = 0; chunk < 8; ++chunk) {
    uint64_t value = 0;
    for (size_t i = 0; i < 5; ++i) {
      int digit = z85_digit(text[chunk * 5 + i]);
      if (digit < 0) return false;
      value = value * 85 + static_cast<uint64_t>(digit);
    }
    if (value > UINT32_MAX) return false;
    for (size_t i = 0; i < 4; ++i) raw[chunk * 4 + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
  }
  return true;
}

bool is_valid_key(std::string_view text) {
  uint8_t raw[32];
  return key_from_text(text, raw);
}

Result<std::string> public_key_of(std::string_view secret_key) {
  init();
  uint8_t secret[32];
  if (!key_from_text(secret_key, secret))
    return Error(Code::kInvalidArgument, "not a valid CURVE secret key");
  uint8_t pub[32];
  int derived = crypto_scalarmult_base(pub, secret);
  wipe(secret, sizeof secret);
  if (derived != 0) return Error(Code::kInternal, "cannot derive the public key");
  return key_to_text(std::string_view(reinterpret_cast<char*>(pub), 32));
}

std::string key_to_text(std::string_view raw32) {
  if (raw32.size() != 32) return {};
  std::string text;
  text.reserve(kKeyTextSize);
  for (size_t chunk = 0; chunk < 8; ++chunk) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(raw32[chunk * 4 + i]);
    char five[5];
    for (int i = 4; i >= 0; --i, value /= 85) five[i] = kZ85[value % 85];
    text.append(five, 5);
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

void wipe(void* bytes, size_t size) {
  if (size > 0) sodium_memzero(bytes, size);
}

void wipe(std::string& secret) {
  wipe(secret.data(), secret.size());
  secret.clear();
}

}  // namespace slipway::crypto
