#include "common/curve/curve_server.h"

#include <sodium.h>

#include <cstring>

#include "common/crypto.h"

namespace slipway {

using namespace zmtp;

namespace {
// The largest handshake command: INITIATE with metadata to spare.
constexpr size_t kMaxCommand = 4096;
constexpr size_t kHelloSize = 200;
constexpr size_t kInitiateMin = 9 + 96 + 8 + kMac + 32 + 16 + 64 + kMac;  // 257
// Unanswered bytes past which a PING gets no PONG: a peer that reads
// nothing cannot make the session queue PONGs without end.
constexpr size_t kMaxUnreadForPong = 64 << 10;

// A command name from the peer, fit for a log line: at most 16 characters,
// each one printable ASCII or '?'.
std::string printable(std::string_view name) {
  std::string out(name.substr(0, 16));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}
}  // namespace

CurveServer::CurveServer(const Key& public_key, const Key& secret_key, size_t max_message,
                         Authorize authorize)
    : public_key_(public_key),
      secret_key_(secret_key),
      max_message_(max_message),
      authorize_(std::move(authorize)) {
  crypto::init();
}

CurveServer::~CurveServer() {
  crypto::wipe(secret_key_);
  crypto::wipe(transient_secret_);
  crypto::wipe(shared_);
}

Status CurveServer::feed(std::string_view data, std::vector<std::string>* messages,
                         size_t* dropped) {
  if (state_ == State::kFailed) return Error(Code::kProtocol, "the connection has failed");
  Status status = wire_.read(
      data,
      [this] { return state_ == State::kReady ? max_message_ + kMessageOverhead : kMaxCommand; },
      [&](const Frame& frame) { return on_frame(frame, messages, dropped); });
  if (!status.ok()) state_ = State::kFailed;
  return status;
}

Status CurveServer::on_frame(const Frame& frame, std::vector<std::string>* messages,
                             size_t* dropped) {
  // After the handshake every frame is a MESSAGE box.
  if (state_ == State::kReady) return on_message(frame.body, messages, dropped);
  std::string_view body = frame.body;
  if ((frame.flags & ~kLong) != kCommand || body.empty() ||
      static_cast<uint8_t>(body[0]) + 1u > body.size()) {
    return Error(Code::kProtocol, "a malformed handshake command");
  }
  std::string_view name = body.substr(1, static_cast<uint8_t>(body[0]));
  if (name == "HELLO" && state_ == State::kExpectHello) return on_hello(body);
  if (name == "INITIATE" && state_ == State::kExpectInitiate) return on_initiate(body);
  return Error(Code::kProtocol, "an unexpected " + printable(name) + " command");
}

Status CurveServer::on_hello(std::string_view body) {
  if (body.size() != kHelloSize || body[6] != 1 || body[7] != 0)
    return Error(Code::kProtocol, "a malformed HELLO");
  std::memcpy(client_transient_.data(), body.data() + 80, 32);
  uint64_t short_nonce = get_u64(bytes(body) + 112);
  auto n = nonce("CurveZMQHELLO---", short_nonce);
  // One key agreement (C', s) serves both the HELLO box and the WELCOME
  // box: a HELLO is what anyone can send, so its cost is kept down.
  uint8_t hello_key[crypto_box_BEFORENMBYTES];
  uint8_t zeros[64];
  bool opened =
      crypto_box_beforenm(hello_key, client_transient_.data(), secret_key_.data()) == 0 &&
      crypto_box_open_easy_afternm(zeros, bytes(body) + 120, 80, n.data(), hello_key) == 0 &&
      sodium_is_zero(zeros, sizeof zeros);
  if (!opened) {
    crypto::wipe(hello_key, sizeof hello_key);
    return Error(Code::kProtocol, "HELLO is not for this server's key");
  }
  peer_nonce_ = short_nonce;

  // WELCOME: our transient key and a cookie, boxed for the client's
  // transient key. The cookie holds C' and s' under a key only this session
  // knows; INITIATE must bring it back unchanged.
  crypto_box_keypair(transient_public_.data(), transient_secret_.data());
  uint8_t cookie_key[crypto_secretbox_KEYBYTES];
  randombytes_buf(cookie_key, sizeof cookie_key);
  auto cookie_nonce = random_nonce("COOKIE--");
  uint8_t cookie_plain[64];
  std::memcpy(cookie_plain, client_transient_.data(), 32);
  std::memcpy(cookie_plain + 32, transient_secret_.data(), 32);
  std::memcpy(cookie_.data(), cookie_nonce.data() + 8, 16);
  crypto_secretbox_easy(cookie_.data() + 16, cookie_plain, sizeof cookie_plain, cookie_nonce.data(),
                        cookie_key);
  crypto::wipe(cookie_plain, sizeof cookie_plain);
  crypto::wipe(cookie_key, sizeof cookie_key);

  auto welcome_nonce = random_nonce("WELCOME-");
  uint8_t plain[128];
  std::memcpy(plain, transient_public_.data(), 32);
  std::memcpy(plain + 32, cookie_.data(), 96);
  std::string welcome("\x07WELCOME", 8);
  welcome.append(reinterpret_cast<const char*>(welcome_nonce.data() + 8), 16);
  welcome.resize(welcome.size() + kMac + sizeof plain);
  crypto_box_easy_afternm(reinterpret_cast<uint8_t*>(welcome.data() + 24), plain, sizeof plain,
                          welcome_nonce.data(), hello_key);
  crypto::wipe(hello_key, sizeof hello_key);
  if (crypto_box_beforenm(shared_.data(), client_transient_.data(), transient_secret_.data()) != 0)
    return Error(Code::kProtocol, "HELLO carries an unusable key");
  append_frame(wire_.out(), kCommand, welcome);
  state_ = State::kExpectInitiate;
  return ok_status();
}

Status CurveServer::on_initiate(std::string_view body) {
  if (body.size() < kInitiateMin) return Error(Code::kProtocol, "a malformed INITIATE");
  if (sodium_memcmp(body.data() + 9, cookie_.data(), cookie_.size()) != 0)
    return Error(Code::kProtocol, "INITIATE does not bring back this session's cookie");
  uint64_t short_nonce = get_u64(bytes(body) + 105);
  if (short_nonce <= peer_nonce_)
    return Error(Code::kProtocol, "INITIATE replayed or out of order");
  std::string plain;
  if (!open_box(body.substr(113), nonce("CurveZMQINITIATE", short_nonce), shared_.data(), &plain))
    return Error(Code::kProtocol, "INITIATE does not open with the session key");
  peer_nonce_ = short_nonce;

  // The vouch: C' and S boxed with the client's long-term key, which proves
  // that the holder of C opened this connection to this server.
  Key client_key{};
  std::memcpy(client_key.data(), plain.data(), 32);
  auto vouch_nonce = long_nonce("VOUCH---", plain.data() + 32);
  uint8_t vouch[64];
  if (crypto_box_open_easy(vouch, bytes(plain) + 48, 64 + kMac, vouch_nonce.data(),
                           client_key.data(), transient_secret_.data()) != 0 ||
      sodium_memcmp(vouch, client_transient_.data(), 32) != 0 ||
      sodium_memcmp(vouch + 32, public_key_.data(), 32) != 0) {
    return Error(Code::kProtocol, "INITIATE carries a vouch that does not hold");
  }
  // s' has done its work: the session key is derived, the vouch opened.
  crypto::wipe(transient_secret_);
  std::string_view metadata = std::string_view(plain).substr(48 + 64 + kMac);
  SLIPWAY_ASSIGN_OR_RETURN(std::string type, find_property(metadata, "Socket-Type", "INITIATE"));
  if (type != "DEALER" && type != "REQ" && type != "ROUTER")
    return Error(Code::kProtocol, "a " + type + " socket cannot talk to a ROUTER");

  client_key_text_ = crypto::key_to_text(
      std::string_view(reinterpret_cast<const char*>(client_key.data()), client_key.size()));
  if (!authorize_(client_key_text_)) {
    // As libzmq does with ZAP's status: the reason is the code, 400.
    append_frame(wire_.out(), kCommand,
                 std::string_view("\x05"
                                  "ERROR\x03"
                                  "400",
                                  10));
    return Error(Code::kPermissionDenied, "the client's key is not admitted");
  }

  std::string ready_metadata;
  add_property(ready_metadata, "Socket-Type", "ROUTER");
  auto n = nonce("CurveZMQREADY---", nonce_++);
  std::string ready("\x05READY", 6);
  ready.append(reinterpret_cast<const char*>(n.data() + 16), 8);
  append_box(ready, ready_metadata, n, shared_.data());
  append_frame(wire_.out(), kCommand, ready);
  state_ = State::kReady;
  return ok_status();
}

void CurveServer::send(std::string_view message) {
  if (state_ == State::kReady)
    append_message(wire_.out(), kFromServer, nonce_++, 0, message, shared_.data());
}

Status CurveServer::on_message(std::string_view body, std::vector<std::string>* messages,
                               size_t* dropped) {
  std::string plain;
  SLIPWAY_RETURN_IF_ERROR(open_message(body, kFromClient, &peer_nonce_, shared_.data(), &plain));
  uint8_t flags = static_cast<uint8_t>(plain[0]);
  if (flags & kBoxCommand) {
    // ZMTP 3.1 heartbeat: a PING is answered with a PONG; other commands are ignored.
    std::string pong = pong_for(std::string_view(plain).substr(1));
    if (!pong.empty() && wire_.outbound().size() < kMaxUnreadForPong)
      append_message(wire_.out(), kFromServer, nonce_++, kBoxCommand, pong, shared_.data());
    return ok_status();
  }
  // An agent sends one frame per message: a multi-frame message is dropped whole.
  bool more = (flags & kBoxMore) != 0;
  if (in_multipart_ || more) {
    in_multipart_ = more;
    if (!more) ++*dropped;
    return ok_status();
  }
  messages->push_back(plain.substr(1));
  return ok_status();
}

}  // namespace slipway
