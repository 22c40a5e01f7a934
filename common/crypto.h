// Slipway's key handling: CURVE key pairs and their Z85 text form, key
// files, random strings and digests. CurveZMQ itself, both ends, is in
// common/curve/ (zmtp.h, curve_server.h, curve_client.h); nothing else calls
// libsodium.
//
// Thread-safe: every function may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace slipway::crypto {

// Z85 text of a 32-byte key is 40 characters.
inline constexpr size_t kKeyTextSize = 40;

struct KeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; never logged
};

// Initialises libsodium once. Every function below calls it; callers never need to.
void init();

// A fresh CURVE key pair.
Result<KeyPair> generate_keypair();

// True when `text` is the 40-character Z85 form of a 32-byte key.
bool is_valid_key(std::string_view text);

// Decodes the Z85 form of a 32-byte key into `raw`; false when `text` is not one.
bool key_from_text(std::string_view text, uint8_t raw[32]);

// The public key of a secret key, both in Z85.
Result<std::string> public_key_of(std::string_view secret_key);

// Z85 form of 32 raw bytes (as ZAP hands over a client's key).
std::string key_to_text(std::string_view raw32);

// Writes a key pair file, mode 0600 from the start (never briefly wider).
// Writes `path` atomically (temporary file and rename).
Status save_keypair(const std::string& path, const KeyPair& keys);

// Reads a key pair file. Fails, naming the file, when it is missing, malformed,
// or readable by group or others.
Result<KeyPair> load_keypair(const std::string& path);

// Reads the key pair at `path`, making and saving a new one when the file does
// not exist yet. `created` tells which happened.
Result<KeyPair> load_or_create_keypair(const std::string& path, bool* created = nullptr);

// `count` characters drawn uniformly from [A-Za-z0-9].
std::string random_alphanumeric(size_t count);

// `count` characters drawn uniformly from [a-z0-9]: deployment ids and the like.
std::string random_id(size_t count);

// A hex digest (BLAKE2b, 256 bits) of `data`: content identity, not a MAC.
std::string digest_hex(std::string_view data);

// A uniformly random integer in [0, bound), bound > 0.
uint32_t random_below(uint32_t bound);

// Overwrites a secret in memory before it is freed, in a way the compiler
// may not leave out: the one way secrets are wiped (keys, transient keys,
// shared secrets, plaintexts of boxes).
void wipe(void* bytes, size_t size);
void wipe(std::string& secret);
template <typename T, size_t N>
void wipe(std::array<T, N>& secret) {
  wipe(secret.data(), sizeof secret);
}

}  // namespace slipway::crypto
