// The agent endpoint on the controller's event loop, held to the reference:
// libzmq's own CURVE client (a DEALER) over loopback TCP and over the Unix
// socket (libzmq's ipc transport). And raw TCP peers that never finish a
// handshake.
#include "controller/agents/agent_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/fs.h"
#include "common/protocol.h"
#include "support/curve_socket.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::controller;

namespace {

struct Rig {
  zmq::context_t context;
  std::set<std::string> admitted;
  boost::asio::io_context io;
  // Silence is judged on this clock, moved by hand.
  ManualClock clock;
  AgentEndpoint endpoint{io, [this](const std::string& key) { return admitted.count(key) > 0; },
                         clock};
  crypto::KeyPair server = crypto::generate_keypair().value();
  crypto::KeyPair agent = crypto::generate_keypair().value();
  std::vector<AgentFrame> frames;
  size_t handlers = 0;  // event-loop handlers run
  std::function<void(const AgentFrame&)> on_frame;

  Rig() {
    admitted.insert(agent.public_key);
    REQUIRE(endpoint
                .start("tcp://127.0.0.1:*", server,
                       [this](AgentFrame&& frame) {
                         if (on_frame) on_frame(frame);
                         frames.push_back(std::move(frame));
                       })
                .ok());
  }

  // A libzmq CURVE DEALER with `keys`, connected to the endpoint's TCP
  // listener, or to `where`.
  std::unique_ptr<zmq::socket_t> dealer(const crypto::KeyPair& keys,
                                        const std::string& server_key = "",
                                        const std::string& where = "") {
    auto d = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
    REQUIRE(crypto::make_curve_client(*d, keys, server_key.empty() ? server.public_key : server_key)
                .ok());
    d->set(zmq::sockopt::linger, 0);
    d->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::kMaxMessageSize));
    d->connect(where.empty() ? endpoint.bound_endpoint() : where);
    return d;
  }

  // Runs the loop until `done` holds (asked once per turn) or 10 s have passed.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      handlers += io.run_one_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void run_for(std::chrono::milliseconds time) {
    auto deadline = std::chrono::steady_clock::now() + time;
    while (std::chrono::steady_clock::now() < deadline)
      handlers += io.run_one_for(std::chrono::milliseconds(10));
  }

  // The next message `d` receives, while the loop runs.
  std::string answer(zmq::socket_t& d) {
    zmq::message_t m;
    REQUIRE(run_until([&] { return d.recv(m, zmq::recv_flags::dontwait).has_value(); }));
    return m.to_string();
  }
};

std::string heartbeat() {
  return proto::encode(proto::AgentMessage{proto::Heartbeat{}});
}

std::string log_message(size_t size) {
  proto::Log log;
  log.data = std::string(size, 'l');
  return proto::encode(proto::AgentMessage{log});
}

// A plain TCP connection to the endpoint, from `source` (any of 127/8).
int raw_connect(int port, const char* source = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  REQUIRE(::inet_pton(AF_INET, source, &from.sin_addr) == 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

// True once the peer has closed `fd` (reading what it sent before).
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buffer[4096];
  return ::read(fd, buffer, sizeof buffer) <= 0;
}

// An agent at `where` sends three messages and gets each one's answer; the
// frames carry its proved key.
void answers_three(Rig& rig, const std::string& where) {
  rig.on_frame = [&](const AgentFrame& frame) {
    proto::Reply reply;
    reply.id = rig.frames.size() + 1;
    CHECK(rig.endpoint.send(frame.routing_id, reply));
  };
  auto d = rig.dealer(rig.agent, "", where);
  for (uint64_t i = 1; i <= 3; ++i) {
    d->send(zmq::buffer(heartbeat()));
    auto decoded = proto::decode_controller_message(rig.answer(*d));
    REQUIRE(decoded.ok());
    CHECK(std::get<proto::Reply>(*decoded).id == i);
  }
  REQUIRE(rig.frames.size() == 3);
  CHECK(rig.frames[0].public_key == rig.agent.public_key);
}

}  // namespace

TEST_CASE("the agent endpoint talks CurveZMQ with libzmq's CURVE client both ways", "[endpoint]") {
  Rig rig;
  answers_three(rig, rig.endpoint.bound_endpoint());
  CHECK(rig.frames[0].peer_address == "127.0.0.1");
  CHECK(rig.frames[2].routing_id == rig.frames[0].routing_id);
  CHECK(rig.endpoint.malformed() == 0);
  CHECK(rig.endpoint.connections() == 1);
}

TEST_CASE("messages of megabytes cross the agent endpoint whole, both ways", "[endpoint]") {
  // Three answers of 3 MiB are more than a socket takes at once: the rest is
  // written as the socket drains.
  Rig rig;
  auto d = rig.dealer(rig.agent);
  d->send(zmq::buffer(log_message(proto::kMaxChunkSize)));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
  CHECK(std::get<proto::Log>(rig.frames[0].message).data.size() == proto::kMaxChunkSize);
  proto::Reply reply;
  reply.id = 7;
  reply.value = std::string(3 << 20, 'r');
  for (int i = 0; i < 3; ++i) REQUIRE(rig.endpoint.send(rig.frames[0].routing_id, reply));
  for (int i = 0; i < 3; ++i) CHECK(rig.answer(*d) == proto::encode(reply));
}

TEST_CASE("an agent key the controller does not admit never gets a message through", "[endpoint]") {
  Rig rig;
  auto stranger = rig.dealer(crypto::generate_keypair().value());
  auto wrong_server = rig.dealer(rig.agent, crypto::generate_keypair().value().public_key);
  stranger->send(zmq::buffer(heartbeat()), zmq::send_flags::dontwait);
  wrong_server->send(zmq::buffer(heartbeat()), zmq::send_flags::dontwait);
  rig.run_for(std::chrono::milliseconds(500));
  CHECK(rig.frames.empty());
  // And the one admitted key still is.
  auto d = rig.dealer(rig.agent);
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
  CHECK(rig.frames[0].public_key == rig.agent.public_key);
}

TEST_CASE("malformed messages are dropped and counted, the connection carries on", "[endpoint]") {
  Rig rig;
  auto d = rig.dealer(rig.agent);
  d->send(zmq::buffer(heartbeat()), zmq::send_flags::sndmore);  // two frames
  d->send(zmq::buffer(heartbeat()));
  d->send(zmq::buffer(std::string("not msgpack")));
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
  CHECK(rig.endpoint.malformed() == 2);
  CHECK(rig.endpoint.connections() == 1);
}

TEST_CASE(
    "an agent that breaks the protocol after its handshake is hung up on, and others "
    "still get in",
    "[endpoint]") {
  // A frame over the limit ends the connection. It once also counted that
  // connection out of the handshakes a second time, and the count, wrapped
  // around, turned every later agent away.
  Rig rig;
  {
    auto d = rig.dealer(rig.agent);
    d->send(zmq::buffer(heartbeat()));
    REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
    d->send(zmq::buffer(std::string(proto::kMaxMessageSize + 16, 'x')));
    REQUIRE(rig.run_until([&] { return rig.endpoint.connections() == 0; }));
  }
  CHECK(rig.endpoint.handshaking() == 0);
  auto d = rig.dealer(rig.agent);
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 2; }));
}

TEST_CASE("libzmq's heartbeat PINGs are answered: a connection with a heartbeat timeout lives",
          "[endpoint]") {
  // The dealer drops a connection silent for 200 ms; only the endpoint's
  // PONGs keep this one, and with it the routing id.
  Rig rig;
  auto d = std::make_unique<zmq::socket_t>(rig.context, zmq::socket_type::dealer);
  REQUIRE(crypto::make_curve_client(*d, rig.agent, rig.server.public_key).ok());
  d->set(zmq::sockopt::linger, 0);
  d->set(zmq::sockopt::heartbeat_ivl, 50);
  d->set(zmq::sockopt::heartbeat_timeout, 200);
  d->connect(rig.endpoint.bound_endpoint());
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
  rig.run_for(std::chrono::milliseconds(1000));
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 2; }));
  CHECK(rig.frames[1].routing_id == rig.frames[0].routing_id);
}

TEST_CASE("connections silent too long are closed, and any by its routing id, talkers stay",
          "[endpoint]") {
  Rig rig;
  auto quiet = rig.dealer(rig.agent);
  auto talker = rig.dealer(rig.agent);
  quiet->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
  const std::string quiet_id = rig.frames[0].routing_id;
  talker->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 2; }));
  const std::string talker_id = rig.frames[1].routing_id;
  int handshaking = raw_connect(rig.endpoint.port());  // never says a word
  REQUIRE(rig.run_until([&] { return rig.endpoint.connections() == 3; }));

  // Exactly at the limit is not yet too long.
  rig.clock.advance(300);
  CHECK(rig.endpoint.close_silent(std::chrono::milliseconds(300)) == 0);
  rig.clock.advance(200);
  talker->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 3; }));
  CHECK(rig.endpoint.close_silent(std::chrono::milliseconds(300)) == 1);
  CHECK(rig.endpoint.connections() == 2);  // the handshake has a deadline of its own
  CHECK_FALSE(rig.endpoint.send(quiet_id, proto::Heartbeat{}));
  CHECK(rig.endpoint.send(talker_id, proto::Heartbeat{}));

  rig.endpoint.disconnect("c999");  // unknown: nothing happens
  CHECK(rig.endpoint.connections() == 2);
  rig.endpoint.disconnect(talker_id);
  CHECK(rig.endpoint.connections() == 1);
  CHECK_FALSE(rig.endpoint.send(talker_id, proto::Heartbeat{}));
  ::close(handshaking);
}

TEST_CASE("a peer that sends garbage or never finishes its handshake is hung up on", "[endpoint]") {
  Rig rig;
  rig.endpoint.set_handshake_time(std::chrono::milliseconds(300));
  int garbage = raw_connect(rig.endpoint.port());
  int silent = raw_connect(rig.endpoint.port());
  std::string junk(64, 'G');
  REQUIRE(::write(garbage, junk.data(), junk.size()) == 64);
  REQUIRE(rig.run_until([&] { return closed_by_peer(garbage); }));
  REQUIRE(rig.run_until([&] { return closed_by_peer(silent); }));
  CHECK(rig.endpoint.connections() == 0);
  ::close(garbage);
  ::close(silent);
  // Sending to a connection that is gone is refused, not a crash.
  CHECK_FALSE(rig.endpoint.send("c1", proto::Heartbeat{}));
}

TEST_CASE("peers that never finish a handshake cannot hold more than 256 connections",
          "[endpoint]") {
  Rig rig;
  std::vector<int> silent;
  // From eight addresses, 32 each: as many as one address may hold.
  for (int i = 0; i < 256; ++i) {
    std::string source = "127.0.0." + std::to_string(2 + i / 32);
    silent.push_back(raw_connect(rig.endpoint.port(), source.c_str()));
  }
  REQUIRE(rig.run_until([&] { return rig.endpoint.handshaking() == 256; }));
  int one_more = raw_connect(rig.endpoint.port(), "127.0.0.20");
  REQUIRE(rig.run_until([&] { return closed_by_peer(one_more); }));
  ::close(one_more);
  CHECK(rig.endpoint.connections() == 256);
  // Once some go, an agent gets in, and its handshake no longer counts.
  for (int i = 0; i < 8; ++i) ::close(silent[static_cast<size_t>(i)]);
  auto d = rig.dealer(rig.agent);
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
  CHECK(rig.endpoint.handshaking() == 248);
  for (size_t i = 8; i < silent.size(); ++i) ::close(silent[i]);
  REQUIRE(rig.run_until([&] { return rig.endpoint.handshaking() == 0; }));
  CHECK(rig.endpoint.connections() == 1);
}

TEST_CASE("one address cannot hold more than 32 handshakes, agents elsewhere still get in",
          "[endpoint]") {
  Rig rig;
  std::vector<int> silent;
  for (int i = 0; i < 32; ++i) silent.push_back(raw_connect(rig.endpoint.port(), "127.0.0.2"));
  REQUIRE(rig.run_until([&] { return rig.endpoint.handshaking() == 32; }));
  int one_more = raw_connect(rig.endpoint.port(), "127.0.0.2");
  REQUIRE(rig.run_until([&] { return closed_by_peer(one_more); }));
  ::close(one_more);
  int elsewhere = raw_connect(rig.endpoint.port(), "127.0.0.3");
  REQUIRE(rig.run_until([&] { return rig.endpoint.handshaking() == 33; }));
  CHECK_FALSE(closed_by_peer(elsewhere));
  auto d = rig.dealer(rig.agent);  // from 127.0.0.1
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));
  // Once one of its connections goes, that address may open another.
  ::close(silent.back());
  silent.pop_back();
  REQUIRE(rig.run_until([&] { return rig.endpoint.handshaking() == 32; }));
  int again = raw_connect(rig.endpoint.port(), "127.0.0.2");
  REQUIRE(rig.run_until([&] { return rig.endpoint.handshaking() == 33; }));
  CHECK_FALSE(closed_by_peer(again));
  for (int fd : silent) ::close(fd);
  ::close(again);
  ::close(elsewhere);
  REQUIRE(rig.run_until([&] { return rig.endpoint.handshaking() == 0; }));
}

TEST_CASE("agents on the controller's host reach the endpoint over its Unix socket too",
          "[endpoint]") {
  Rig rig;
  test::TempDir dir;
  const std::string path = dir.path() + "/agent.sock";
  REQUIRE(rig.endpoint.listen_local(path).ok());
  CHECK(rig.endpoint.local_endpoint() == "ipc://" + path);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);

  answers_three(rig, rig.endpoint.local_endpoint());
  CHECK(rig.frames[0].peer_address.empty());  // no IP address to take for the machine's

  // CURVE still decides: a key that is not admitted gets nothing through.
  auto stranger = rig.dealer(crypto::generate_keypair().value(), "", rig.endpoint.local_endpoint());
  stranger->send(zmq::buffer(heartbeat()));
  rig.run_for(std::chrono::milliseconds(300));
  CHECK(rig.frames.size() == 3);

  // Both listeners serve at once.
  auto over_tcp = rig.dealer(rig.agent);
  over_tcp->send(zmq::buffer(heartbeat()));
  REQUIRE(proto::decode_controller_message(rig.answer(*over_tcp)).ok());
  CHECK(rig.frames.back().peer_address == "127.0.0.1");

  rig.endpoint.stop();
  CHECK_FALSE(fs::exists(path));  // a stopped controller leaves no socket behind
}

TEST_CASE("a dead controller's agent socket is replaced, no other file is", "[endpoint]") {
  test::TempDir dir;
  const std::string path = dir.path() + "/agent.sock";
  {
    // A socket file whose listener is gone, as a killed controller leaves it.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    ::close(fd);
  }
  Rig rig;
  REQUIRE(rig.endpoint.listen_local(path).ok());
  auto d = rig.dealer(rig.agent, "", rig.endpoint.local_endpoint());
  d->send(zmq::buffer(heartbeat()));
  REQUIRE(rig.run_until([&] { return rig.frames.size() == 1; }));

  const std::string file = dir.path() + "/precious";
  REQUIRE(fs::write_file_atomic(file, "keep me\n", 0600).ok());
  Rig other;
  auto refused = other.endpoint.listen_local(file);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == Code::kFailedPrecondition);
  CHECK(fs::read_file(file, 100).value() == "keep me\n");
  CHECK(other.endpoint.local_endpoint().empty());

  for (const std::string& bad : {std::string("agent.sock"), "/" + std::string(120, 'a'),
                                 std::string("/tmp/with space.sock")}) {
    INFO(bad);
    auto started = other.endpoint.listen_local(bad);
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("agent endpoints that are not tcp://HOST:PORT are refused with one error", "[endpoint]") {
  for (const char* bad :
       {"ipc:///tmp/x", "tcp://nowhere:7740", "tcp://127.0.0.1", "tcp://*:99999", "tcp://*:port"}) {
    INFO(bad);
    boost::asio::io_context io;
    ManualClock clock;
    AgentEndpoint endpoint(
        io, [](const std::string&) { return true; }, clock);
    auto started = endpoint.start(bad, crypto::generate_keypair().value(), [](AgentFrame&&) {});
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("the agent endpoint's work per message stays flat however many it has answered",
          "[endpoint]") {
  // A regression guard from the libzmq endpoint, whose edge-triggered
  // ZMQ_FD once made every answer arm one more wait, until a controller that
  // had answered a few thousand messages spun through thousands per message.
  Rig rig;
  rig.on_frame = [&](const AgentFrame& frame) {
    proto::Reply reply;
    reply.id = rig.frames.size() + 1;
    rig.endpoint.send(frame.routing_id, reply);
  };
  auto d = rig.dealer(rig.agent);
  constexpr int kWarmUp = 300;
  constexpr int kMeasured = 100;
  size_t before = 0;
  for (int i = 1; i <= kWarmUp + kMeasured; ++i) {
    if (i == kWarmUp + 1) before = rig.handlers;
    d->send(zmq::buffer(heartbeat()));
    auto decoded = proto::decode_controller_message(rig.answer(*d));
    REQUIRE(decoded.ok());
    REQUIRE(std::get<proto::Reply>(*decoded).id == static_cast<uint64_t>(i));
  }
  double per_message = static_cast<double>(rig.handlers - before) / kMeasured;
  INFO("event-loop handlers per message: " << per_message);
  CHECK(per_message < 20);
}
