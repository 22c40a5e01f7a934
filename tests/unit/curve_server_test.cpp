// The controller's CurveZMQ server session against the agent's client, in
// memory, and against bytes no client should send. Its conversation with
// libzmq's own CURVE client over TCP is in agent_endpoint_test.cpp.
#include "common/curve/curve_server.h"

#include <catch2/catch.hpp>
#include <set>

#include "common/crypto.h"
#include "common/curve/curve_client.h"

using namespace slipway;
using slipway::agent::CurveClient;

namespace {

constexpr size_t kMax = 4 << 20;

zmtp::Key raw(const std::string& text) {
  zmtp::Key key{};
  REQUIRE(crypto::key_from_text(text, key.data()));
  return key;
}

// A server session and a client session with the bytes between them carried
// by hand.
struct Pair {
  crypto::KeyPair server_keys = crypto::generate_keypair().value();
  crypto::KeyPair agent = crypto::generate_keypair().value();
  std::set<std::string> admitted{agent.public_key};
  CurveServer server{raw(server_keys.public_key), raw(server_keys.secret_key), kMax,
                     [this](const std::string& key) { return admitted.count(key) > 0; }};
  std::unique_ptr<CurveClient> client;
  std::vector<std::string> at_server, at_client;
  size_t dropped = 0;
  Status server_status = ok_status();
  Status client_status = ok_status();
  bool byte_by_byte = false;

  explicit Pair(const std::string& server_key_for_client = "") {
    auto made = CurveClient::create(
        agent.public_key, agent.secret_key,
        server_key_for_client.empty() ? server_keys.public_key : server_key_for_client, kMax);
    REQUIRE(made.ok());
    client = std::move(*made);
  }

  Status to_server(std::string_view bytes) {
    if (!byte_by_byte) return server.feed(bytes, &at_server, &dropped);
    for (char c : bytes) SLIPWAY_RETURN_IF_ERROR(server.feed({&c, 1}, &at_server, &dropped));
    return ok_status();
  }

  // Carries bytes both ways until neither side has any to write, or one fails.
  void pump() {
    for (int round = 0; round < 20; ++round) {
      std::string up(client->outbound()), down(server.outbound());
      client->written(up.size());
      server.written(down.size());
      if (up.empty() && down.empty()) return;
      if (!up.empty() && server_status.ok()) server_status = to_server(up);
      if (!down.empty() && client_status.ok()) client_status = client->feed(down, &at_client);
    }
  }
};

}  // namespace

TEST_CASE("the server session and the agent's client handshake and talk both ways", "[curve]") {
  for (bool byte_by_byte : {false, true}) {
    Pair pair;
    pair.byte_by_byte = byte_by_byte;
    pair.pump();
    REQUIRE(pair.server_status.ok());
    REQUIRE(pair.client_status.ok());
    REQUIRE(pair.server.ready());
    REQUIRE(pair.client->ready());
    CHECK(pair.server.client_key() == pair.agent.public_key);

    std::string big(300000, 'x');
    pair.client->send("hello");
    pair.client->send("");
    pair.client->send(big);
    pair.server.send("welcome");
    pair.server.send(big);
    pair.pump();
    REQUIRE(pair.server_status.ok());
    REQUIRE(pair.client_status.ok());
    CHECK(pair.at_server == std::vector<std::string>{"hello", "", big});
    CHECK(pair.at_client == std::vector<std::string>{"welcome", big});
    CHECK(pair.dropped == 0);
  }
}

TEST_CASE("a key the server does not admit gets ERROR 400 and no session", "[curve]") {
  Pair pair;
  pair.admitted.clear();
  pair.pump();
  REQUIRE_FALSE(pair.server_status.ok());
  CHECK(pair.server_status.error().code() == Code::kPermissionDenied);
  CHECK_FALSE(pair.server.ready());
  CHECK(pair.server.client_key() == pair.agent.public_key);  // for the log
  REQUIRE_FALSE(pair.client_status.ok());
  CHECK(pair.client_status.error().code() == Code::kPermissionDenied);
  CHECK(pair.client_status.error().message() == "the server refused the handshake (400)");
  // A refused session takes nothing more.
  pair.server.send("secret");
  CHECK(pair.server.outbound().empty());
}

TEST_CASE("a client that has the wrong server key never gets a WELCOME", "[curve]") {
  Pair pair(crypto::generate_keypair().value().public_key);
  pair.pump();
  REQUIRE_FALSE(pair.server_status.ok());
  CHECK(pair.server_status.error().message() == "HELLO is not for this server's key");
  CHECK_FALSE(pair.client->welcomed());
}

TEST_CASE("a replayed, tampered or reordered MESSAGE from a client ends the session", "[curve]") {
  for (int variant = 0; variant < 3; ++variant) {
    Pair pair;
    pair.pump();
    REQUIRE(pair.server.ready());
    pair.client->send("one");
    std::string first(pair.client->outbound());
    pair.client->written(first.size());
    pair.client->send("two");
    std::string second(pair.client->outbound());
    pair.client->written(second.size());
    Status fed = ok_status();
    if (variant == 0) {  // replay
      REQUIRE(pair.to_server(first).ok());
      fed = pair.to_server(first);
    } else if (variant == 1) {  // one bit flipped in the box
      first[first.size() - 3] ^= 0x10;
      fed = pair.to_server(first);
    } else {  // the second before the first
      REQUIRE(pair.to_server(second).ok());
      fed = pair.to_server(first);
    }
    REQUIRE_FALSE(fed.ok());
    CHECK(fed.error().code() == Code::kProtocol);
    CHECK_FALSE(pair.to_server(second).ok());  // and the session stays failed
  }
}

TEST_CASE("bytes no CurveZMQ client would send end the session with an error", "[curve]") {
  std::string good = zmtp::greeting(false);
  std::string as_server = zmtp::greeting(true);
  std::string null_mechanism = good;
  null_mechanism.replace(12, 5, std::string("NULL\0", 5));
  std::string old_version = good;
  old_version[10] = 2;
  auto command = [](std::string_view body) {
    std::string frame;
    zmtp::append_frame(frame, zmtp::kCommand, body);
    return frame;
  };
  std::string huge_frame = "\x06" + std::string("\x00\x00\x01\x00\x00\x00\x00\x00", 8);
  std::string hello_short = command(std::string("\x05HELLO\x01\x00", 8) + std::string(100, '\0'));
  std::string hello_forged =
      command(std::string("\x05HELLO\x01\x00", 8) + std::string(192, '\x01'));
  std::string initiate_first = command(std::string("\x08INITIATE", 9) + std::string(300, '\0'));

  struct Case {
    const char* what;
    std::string bytes;
  };
  std::vector<Case> cases = {
      {"not ZMTP", std::string(64, 'G')},
      {"the NULL mechanism", null_mechanism},
      {"ZMTP 2", old_version},
      {"a second server", as_server},
      {"a data frame before the handshake", good + std::string("\x00\x02hi", 4)},
      {"reserved frame flags", good + std::string("\x44\x01x", 3)},
      {"a 1 TiB frame", good + huge_frame},
      {"a short HELLO", good + hello_short},
      {"a HELLO with a box that does not open", good + hello_forged},
      {"INITIATE before HELLO", good + initiate_first},
      {"an unknown command", good + command("\x05HELLX")},
      {"a command with a name longer than itself", good + command("\x20HELLO")},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    crypto::KeyPair keys = crypto::generate_keypair().value();
    bool asked = false;
    CurveServer server(raw(keys.public_key), raw(keys.secret_key), kMax,
                       [&](const std::string&) { return asked = true; });
    std::vector<std::string> messages;
    size_t dropped = 0;
    Status fed = server.feed(c.bytes, &messages, &dropped);
    REQUIRE_FALSE(fed.ok());
    CHECK(fed.error().code() == Code::kProtocol);
    CHECK_FALSE(server.ready());
    CHECK_FALSE(asked);
    CHECK(messages.empty());
    CHECK_FALSE(server.feed(good, &messages, &dropped).ok());
  }
}

TEST_CASE("an INITIATE that does not bring back the session's cookie is refused", "[curve]") {
  Pair pair;
  // Greeting and HELLO up, greeting and WELCOME down; the client answers INITIATE.
  std::string up(pair.client->outbound());
  pair.client->written(up.size());
  REQUIRE(pair.to_server(up).ok());
  std::string down(pair.server.outbound());
  pair.server.written(down.size());
  REQUIRE(pair.client->feed(down, &pair.at_client).ok());
  std::string initiate(pair.client->outbound());
  REQUIRE(initiate.size() > 257);
  initiate[9 + 9 + 10] ^= 0x01;  // past the long frame header and "\x08INITIATE": the cookie
  Status fed = pair.to_server(initiate);
  REQUIRE_FALSE(fed.ok());
  CHECK(fed.error().message() == "INITIATE does not bring back this session's cookie");
  CHECK_FALSE(pair.server.ready());
}
