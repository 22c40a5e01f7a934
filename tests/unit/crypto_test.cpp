#include "common/crypto.h"

#include <sys/stat.h>
#include <zmq.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <set>

#include "common/fs.h"
#include "support/temp_dir.h"

using namespace slipway;

TEST_CASE("key pairs are valid Z85 and the public key derives from the secret", "[crypto]") {
  auto keys = crypto::generate_keypair();
  REQUIRE(keys.ok());
  CHECK(crypto::is_valid_key(keys->public_key));
  CHECK(crypto::is_valid_key(keys->secret_key));
  CHECK(*crypto::public_key_of(keys->secret_key) == keys->public_key);
  CHECK_FALSE(crypto::is_valid_key("short"));
  CHECK_FALSE(crypto::is_valid_key(std::string(40, ' ')));
}

TEST_CASE("keys read and write as libzmq's Z85 and CURVE do", "[crypto]") {
  // The agent no longer links libzmq; its key text must stay what the
  // controller's libzmq reads and writes.
  for (int i = 0; i < 200; ++i) {
    char pub[41], sec[41];
    REQUIRE(zmq_curve_keypair(pub, sec) == 0);
    CHECK(*crypto::public_key_of(sec) == pub);
    uint8_t raw[32], theirs[32];
    REQUIRE(crypto::key_from_text(pub, raw));
    REQUIRE(zmq_z85_decode(theirs, pub) != nullptr);
    CHECK(std::memcmp(raw, theirs, 32) == 0);
    CHECK(crypto::key_to_text(std::string_view(reinterpret_cast<char*>(raw), 32)) == pub);
  }
  uint8_t ends[32];
  std::memset(ends, 0xff, 16);
  std::memset(ends + 16, 0, 16);
  char text[41];
  REQUIRE(zmq_z85_encode(text, ends, 32) != nullptr);
  CHECK(crypto::key_to_text(std::string_view(reinterpret_cast<char*>(ends), 32)) == text);
  uint8_t raw[32];
  CHECK_FALSE(crypto::key_from_text(std::string(40, '"'), raw));  // not in the alphabet
  CHECK_FALSE(crypto::key_from_text(std::string(40, '#'), raw));  // 85^5 - 1 > 2^32 - 1
  CHECK_FALSE(crypto::key_from_text(std::string(39, '0'), raw));  // too short
  CHECK_FALSE(crypto::key_from_text(std::string("0\0", 2) + std::string(38, '0'), raw));
  CHECK(crypto::key_from_text(std::string(40, '0'), raw));
}

TEST_CASE("key files are written mode 0600 and read back", "[crypto]") {
  test::TempDir dir;
  auto keys = crypto::generate_keypair();
  std::string path = dir.path() + "/k.key";
  REQUIRE(crypto::save_keypair(path, *keys).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto loaded = crypto::load_keypair(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->public_key == keys->public_key);
  CHECK(loaded->secret_key == keys->secret_key);
}

TEST_CASE("a key file readable by group or others is refused", "[crypto]") {
  test::TempDir dir;
  std::string path = dir.path() + "/k.key";
  REQUIRE(crypto::save_keypair(path, *crypto::generate_keypair()).ok());
  ::chmod(path.c_str(), 0640);
  auto loaded = crypto::load_keypair(path);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == Code::kPermissionDenied);
  CHECK(loaded.error().message().find("mode 0640") != std::string::npos);
}

TEST_CASE("a key file whose keys do not match is refused", "[crypto]") {
  test::TempDir dir;
  std::string path = dir.path() + "/k.key";
  auto a = crypto::generate_keypair();
  auto b = crypto::generate_keypair();
  REQUIRE(crypto::save_keypair(path, crypto::KeyPair{a->public_key, b->secret_key}).ok());
  auto loaded = crypto::load_keypair(path);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message().find("does not match") != std::string::npos);
  REQUIRE(fs::write_file_atomic(path, "garbage\n", 0600).ok());
  CHECK_FALSE(crypto::load_keypair(path).ok());
}

TEST_CASE("load_or_create makes a key pair once and then keeps it", "[crypto]") {
  test::TempDir dir;
  bool created = false;
  auto first = crypto::load_or_create_keypair(dir.path() + "/c.key", &created);
  REQUIRE(first.ok());
  CHECK(created);
  auto second = crypto::load_or_create_keypair(dir.path() + "/c.key", &created);
  REQUIRE(second.ok());
  CHECK_FALSE(created);
  CHECK(second->public_key == first->public_key);
}

TEST_CASE("random strings use their alphabet and differ", "[crypto]") {
  std::string a = crypto::random_alphanumeric(64);
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        std::string::npos);
  CHECK(crypto::random_alphanumeric(64) != a);
  CHECK(crypto::random_id(8).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") ==
        std::string::npos);
}
