// The agent's CurveZMQ client against the real thing: a libzmq CURVE ROUTER
// with a ZAP handler of the tests' own (support/zap_handler.h), over loopback TCP. And against bytes no
// libzmq would send, which must end the connection with an error.
#include "common/curve/curve_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <zmq.hpp>

#include "common/crypto.h"
#include "controller/agents/key_registry.h"
#include "support/curve_socket.h"
#include "support/zap_handler.h"

using namespace slipway;
using slipway::agent::CurveClient;

namespace {

constexpr size_t kMax = 4 << 20;

std::unique_ptr<CurveClient> make_client(const crypto::KeyPair& ours, const std::string& server) {
  auto client = CurveClient::create(ours.public_key, ours.secret_key, server, kMax);
  REQUIRE(client.ok());
  return std::move(*client);
}

// A libzmq CURVE ROUTER admitting the keys in `keys`, and one TCP connection
// to it driven by a CurveClient.
struct Rig {
  zmq::context_t context;
  controller::KeyRegistry keys;
  controller::ZapHandler zap{context, keys};
  crypto::KeyPair server = crypto::generate_keypair().value();
  crypto::KeyPair agent = crypto::generate_keypair().value();
  zmq::socket_t router{context, zmq::socket_type::router};
  int port = 0;
  int fd = -1;
  std::unique_ptr<CurveClient> client;
  std::vector<std::string> received;  // by the client
  std::string raw;                    // every byte the client was fed
  bool byte_by_byte = false;
  bool closed = false;
  std::function<void(std::string&)> tamper;  // applied to each chunk read

  Rig() {
    REQUIRE(zap.start().ok());
    REQUIRE(crypto::make_curve_server(router, server).ok());
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMax));
    router.bind("tcp://127.0.0.1:*");
    std::string bound = router.get(zmq::sockopt::last_endpoint);
    port = std::stoi(bound.substr(bound.rfind(':') + 1));
  }
  ~Rig() {
    if (fd >= 0) ::close(fd);
  }

  void connect(std::unique_ptr<CurveClient> c) {
    client = std::move(c);
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }

  // Writes, reads and feeds until `done` holds; the feed's error, if any.
  Status pump(const std::function<bool()>& done, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return Error(Code::kTimeout, "timed out");
      std::string_view out = client->outbound();
      if (!out.empty()) {
        ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) client->written(static_cast<size_t>(n));
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      char buffer[65536];
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) {
        closed = true;
        return Error(Code::kUnavailable, "closed");
      }
      std::string chunk(buffer, static_cast<size_t>(n));
      if (tamper) tamper(chunk);
      raw.append(chunk);
      if (!byte_by_byte) {
        SLIPWAY_RETURN_IF_ERROR(client->feed(chunk, &received));
      } else {
        for (char c : chunk)
          SLIPWAY_RETURN_IF_ERROR(client->feed(std::string_view(&c, 1), &received));
      }
    }
    return ok_status();
  }

  // Admits the agent's key, connects, completes the handshake and says "hi";
  // returns the routing id the router knows the client by.
  std::string connected() {
    keys.admit(agent.public_key, controller::AgentIdentity{"d1", "web.1"});
    connect(make_client(agent, server.public_key));
    REQUIRE(pump([&] { return client->ready(); }).ok());
    client->send("hi");
    return receive().id;
  }

  void send_to_client(const std::string& id, const std::string& body) {
    router.send(zmq::buffer(id), zmq::send_flags::sndmore);
    router.send(zmq::buffer(body), zmq::send_flags::none);
  }

  // The next message on the router: its routing id, body and User-Id.
  struct Arrival {
    std::string id, body, user_id;
  };
  Arrival receive() {
    Arrival a;
    REQUIRE(pump([&] {
              zmq::message_t id;
              if (!router.recv(id, zmq::recv_flags::dontwait)) return false;
              zmq::message_t body;
              (void)router.recv(body);
              a.id = id.to_string();
              a.body = body.to_string();
              const char* user = zmq_msg_gets(body.handle(), "User-Id");
              a.user_id = user == nullptr ? "" : user;
              return true;
            }).ok());
    return a;
  }
};

std::string greeting(const char* mechanism = "CURVE") {
  std::string g(64, '\0');
  g[0] = '\xff';
  g[9] = '\x7f';
  g[10] = 3;
  g[11] = 1;
  std::memcpy(g.data() + 12, mechanism, std::strlen(mechanism));
  return g;
}

Status feed(CurveClient& client, const std::string& bytes) {
  std::vector<std::string> messages;
  Status fed = client.feed(bytes, &messages);
  CHECK(messages.empty());
  return fed;
}

}  // namespace

TEST_CASE("the agent's CurveZMQ client talks to a libzmq ROUTER both ways", "[curve]") {
  Rig rig;
  rig.keys.admit(rig.agent.public_key, controller::AgentIdentity{"d1", "web.1"});
  rig.byte_by_byte = GENERATE(false, true);
  rig.connect(make_client(rig.agent, rig.server.public_key));
  REQUIRE(rig.pump([&] { return rig.client->ready(); }).ok());
  CHECK(rig.client->welcomed());

  // Agent to controller, with the key ZAP admitted as the message's User-Id.
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  rig.client->send("first");
  rig.client->send(big);
  rig.client->send("");
  Rig::Arrival first = rig.receive();
  CHECK(first.body == "first");
  CHECK(first.user_id == rig.agent.public_key);
  CHECK(rig.receive().body == big);
  CHECK(rig.receive().body.empty());

  // Controller to agent, in order, short and long frames.
  for (const std::string& body : {std::string("one"), big, std::string("three")}) {
    rig.router.send(zmq::buffer(first.id), zmq::send_flags::sndmore);
    rig.router.send(zmq::buffer(body), zmq::send_flags::none);
  }
  REQUIRE(rig.pump([&] { return rig.received.size() == 3; }).ok());
  CHECK(rig.received[0] == "one");
  CHECK(rig.received[1] == big);
  CHECK(rig.received[2] == "three");

  // Only the first frame of a multi-frame message is kept.
  rig.router.send(zmq::buffer(first.id), zmq::send_flags::sndmore);
  rig.router.send(zmq::buffer(std::string("head")), zmq::send_flags::sndmore);
  rig.router.send(zmq::buffer(std::string("tail")), zmq::send_flags::none);
  rig.router.send(zmq::buffer(first.id), zmq::send_flags::sndmore);
  rig.router.send(zmq::buffer(std::string("after")), zmq::send_flags::none);
  REQUIRE(rig.pump([&] { return rig.received.size() == 5; }).ok());
  CHECK(rig.received[3] == "head");
  CHECK(rig.received[4] == "after");
}

TEST_CASE("the server's heartbeat PING is answered, and keeps the connection", "[curve]") {
  Rig rig;
  rig.keys.admit(rig.agent.public_key, controller::AgentIdentity{"d1", "web.1"});
  // A ROUTER that pings every 50 ms and drops a peer silent for 200 ms.
  zmq::socket_t pinging{rig.context, zmq::socket_type::router};
  REQUIRE(crypto::make_curve_server(pinging, rig.server).ok());
  pinging.set(zmq::sockopt::linger, 0);
  pinging.set(zmq::sockopt::heartbeat_ivl, 50);
  pinging.set(zmq::sockopt::heartbeat_timeout, 200);
  pinging.bind("tcp://127.0.0.1:*");
  std::string bound = pinging.get(zmq::sockopt::last_endpoint);
  rig.port = std::stoi(bound.substr(bound.rfind(':') + 1));
  rig.connect(make_client(rig.agent, rig.server.public_key));
  REQUIRE(rig.pump([&] { return rig.client->ready(); }).ok());
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
  CHECK(rig.pump([&] { return std::chrono::steady_clock::now() > until; }, 2000).ok());
  CHECK_FALSE(rig.closed);
  CHECK(rig.received.empty());  // pings are not messages
  rig.client->send("still here");
  REQUIRE(rig.pump([&] {
               zmq::message_t id, body;
               if (!pinging.recv(id, zmq::recv_flags::dontwait)) return false;
               (void)pinging.recv(body);
               return body.to_string() == "still here";
             })
              .ok());
}

TEST_CASE("a key the controller refuses ends the handshake as refused", "[curve]") {
  Rig rig;  // the agent's key is never admitted
  rig.connect(make_client(rig.agent, rig.server.public_key));
  Status handshake = rig.pump([&] { return rig.client->ready(); });
  REQUIRE_FALSE(handshake.ok());
  CHECK(handshake.error().code() == Code::kPermissionDenied);
  CHECK(handshake.error().message().find("400") != std::string::npos);
  CHECK(rig.zap.refused() == 1);
}

TEST_CASE("a wrong server key: the server hangs up before any WELCOME", "[curve]") {
  Rig rig;
  rig.keys.admit(rig.agent.public_key, controller::AgentIdentity{"d1", "web.1"});
  auto stranger = crypto::generate_keypair().value();
  rig.connect(make_client(rig.agent, stranger.public_key));
  Status handshake = rig.pump([&] { return rig.client->ready(); });
  REQUIRE_FALSE(handshake.ok());
  CHECK(rig.closed);
  CHECK_FALSE(rig.client->welcomed());
  CHECK(rig.zap.admitted() == 0);
}

TEST_CASE("bytes no CurveZMQ server would send end the connection with an error", "[curve]") {
  auto server = crypto::generate_keypair().value();
  auto agent = crypto::generate_keypair().value();
  auto fresh = [&] { return make_client(agent, server.public_key); };
  auto fails = [&](const std::string& bytes, const std::string& says) {
    auto client = fresh();
    Status fed = feed(*client, bytes);
    INFO("expected: " << says);
    REQUIRE_FALSE(fed.ok());
    CHECK(fed.error().code() == Code::kProtocol);
    CHECK(fed.error().message().find(says) != std::string::npos);
    CHECK_FALSE(client->ready());
    CHECK_FALSE(feed(*client, greeting()).ok());  // finished for good
  };
  fails(std::string(64, 'G'), "ZMTP 3");
  fails(greeting("NULL"), "CURVE");
  fails(greeting() + std::string("\x80\x01x", 3), "reserved flags");
  fails(greeting() + std::string("\x06\xff\xff\xff\xff\xff\xff\xff\xff", 9), "over the limit");
  fails(greeting() + std::string("\x04\x08\x07WELCOME", 10), "malformed WELCOME");
  fails(greeting() + std::string("\x04\x06\x05READY", 8), "unexpected READY");
  fails(greeting() + std::string("\x04\x01\x09", 3), "malformed command");
  std::string forged_welcome("\x07WELCOME", 8);
  forged_welcome.append(160, '\x01');
  fails(greeting() + std::string("\x04\xa8", 2) + forged_welcome, "expected server key");

  // An ERROR with no reason at all is still a refusal.
  auto bare = fresh();
  Status refused = feed(*bare, greeting() + std::string("\x04\x06\x05"
                                                        "ERROR",
                                                        8));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == Code::kPermissionDenied);

  // A greeting cut anywhere is waited for, not misread.
  auto client = fresh();
  std::string g = greeting();
  for (char c : g) REQUIRE(feed(*client, std::string(1, c)).ok());
  CHECK_FALSE(client->ready());

  CHECK(
      CurveClient::create(agent.public_key, "not a key", server.public_key, kMax).error().code() ==
      Code::kInvalidArgument);
}

TEST_CASE("a tampered or replayed MESSAGE from the server is refused", "[curve]") {
  Rig rig;
  std::string id = rig.connected();
  size_t before = rig.raw.size();
  rig.send_to_client(id, "secret");
  REQUIRE(rig.pump([&] { return rig.received.size() == 1; }).ok());
  std::string message = rig.raw.substr(before);
  std::vector<std::string> out;
  Status replayed = rig.client->feed(message, &out);
  REQUIRE_FALSE(replayed.ok());
  CHECK(replayed.error().message().find("replayed") != std::string::npos);
  CHECK(out.empty());

  // A fresh session, whose next MESSAGE arrives with its last bit flipped.
  Rig other;
  std::string other_id = other.connected();
  other.tamper = [](std::string& bytes) { bytes.back() ^= 1; };
  other.send_to_client(other_id, "secret");
  Status tampered = other.pump([&] { return !other.received.empty(); });
  REQUIRE_FALSE(tampered.ok());
  CHECK(tampered.error().code() == Code::kProtocol);
  CHECK(tampered.error().message().find("does not open") != std::string::npos);
  CHECK(other.received.empty());
}
