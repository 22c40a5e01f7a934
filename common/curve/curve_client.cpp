#include "common/curve/curve_client.h"

#include <sodium.h>

#include <cstring>

#include "common/crypto.h"
#include "common/curve/zmtp.h"

namespace slipway::agent {

using namespace zmtp;

Result<std::unique_ptr<CurveClient>> CurveClient::create(std::string_view public_key,
                                                         std::string_view secret_key,
                                                         std::string_view server_key,
                                                         size_t max_message) {
  Key ours{}, secret{}, server{};
  bool valid = crypto::key_from_text(public_key, ours.data()) &&
               crypto::key_from_text(secret_key, secret.data()) &&
               crypto::key_from_text(server_key, server.data());
  std::unique_ptr<CurveClient> client;
  if (valid) client.reset(new CurveClient(ours, secret, server, max_message));
  crypto::wipe(secret);
  if (!valid) return Error(Code::kInvalidArgument, "not a valid CURVE key");
  SLIPWAY_RETURN_IF_ERROR(client->say_hello());
  return client;
}

CurveClient::CurveClient(const Key& public_key, const Key& secret_key, const Key& server_key,
                         size_t max_message)
    : public_key_(public_key),
      secret_key_(secret_key),
      server_key_(server_key),
      max_message_(max_message) {
  crypto::init();
  crypto_box_keypair(transient_public_.data(), transient_secret_.data());
}

Status CurveClient::say_hello() {
  // HELLO: our transient key and a box of 64 zero bytes that only the
  // holder of the server's secret key can open.
  uint64_t short_nonce = next_nonce();
  auto n = nonce("CurveZMQHELLO---", short_nonce);
  uint8_t zeros[64] = {};
  uint8_t box[64 + kMac];
  if (crypto_box_easy(box, zeros, sizeof zeros, n.data(), server_key_.data(),
                      transient_secret_.data()) != 0) {
    return Error(Code::kInvalidArgument, "the server key is not a usable CURVE key");
  }
  std::string hello("\x05HELLO\x01\x00", 8);
  hello.append(72, '\0');  // anti-amplification padding
  hello.append(reinterpret_cast<const char*>(transient_public_.data()), 32);
  hello.append(reinterpret_cast<const char*>(n.data() + 16), 8);
  hello.append(reinterpret_cast<const char*>(box), sizeof box);
  append_frame(wire_.out(), kCommand, hello);
  return ok_status();
}

CurveClient::~CurveClient() {
  crypto::wipe(secret_key_);
  crypto::wipe(transient_secret_);
  crypto::wipe(shared_);
}

Status CurveClient::feed(std::string_view data, std::vector<std::string>* messages) {
  if (state_ == State::kFailed) return Error(Code::kProtocol, "the connection has failed");
  Status status = wire_.read(
      data, [this] { return max_message_ + kMessageOverhead; },
      [&](const Frame& frame) {
        // After the handshake every frame is a MESSAGE box.
        return state_ == State::kReady ? on_message(frame.body, messages) : on_command(frame.body);
      });
  if (!status.ok()) state_ = State::kFailed;
  return status;
}

Status CurveClient::on_command(std::string_view body) {
  if (body.empty() || static_cast<uint8_t>(body[0]) + 1u > body.size())
    return Error(Code::kProtocol, "a malformed command");
  std::string_view name = body.substr(1, static_cast<uint8_t>(body[0]));
  if (name == "ERROR" && (state_ == State::kExpectWelcome || state_ == State::kExpectReady)) {
    // "\5ERROR", the reason's length, the reason (ZAP's status code).
    size_t size = body.size() > 6 ? static_cast<uint8_t>(body[6]) : 0;
    std::string reason(body.substr(std::min<size_t>(7, body.size())).substr(0, size));
    return Error(Code::kPermissionDenied,
                 "the server refused the handshake" + (reason.empty() ? "" : " (" + reason + ")"));
  }
  if (name == "WELCOME" && state_ == State::kExpectWelcome) return on_welcome(body);
  if (name == "READY" && state_ == State::kExpectReady) return on_ready(body);
  return Error(Code::kProtocol, "an unexpected " + std::string(name) + " command");
}

Status CurveClient::on_welcome(std::string_view body) {
  if (body.size() != 168) return Error(Code::kProtocol, "a malformed WELCOME");
  auto n = long_nonce("WELCOME-", body.data() + 8);
  uint8_t plain[128];
  if (crypto_box_open_easy(plain, bytes(body) + 24, 144, n.data(), server_key_.data(),
                           transient_secret_.data()) != 0) {
    return Error(Code::kProtocol, "WELCOME does not come from the expected server key");
  }
  std::memcpy(server_transient_.data(), plain, 32);
  std::memcpy(cookie_.data(), plain + 32, 96);
  crypto::wipe(plain, sizeof plain);
  if (crypto_box_beforenm(shared_.data(), server_transient_.data(), transient_secret_.data()) != 0)
    return Error(Code::kProtocol, "WELCOME carries an unusable key");
  state_ = State::kExpectReady;
  return send_initiate();
}

Status CurveClient::send_initiate() {
  // Vouch: our transient key and the server's key, boxed with our long-term
  // key, which proves that the holder of C opened this connection.
  auto vouch_nonce = random_nonce("VOUCH---");
  uint8_t vouch_plain[64];
  std::memcpy(vouch_plain, transient_public_.data(), 32);
  std::memcpy(vouch_plain + 32, server_key_.data(), 32);
  uint8_t vouch[64 + kMac];
  if (crypto_box_easy(vouch, vouch_plain, sizeof vouch_plain, vouch_nonce.data(),
                      server_transient_.data(), secret_key_.data()) != 0) {
    return Error(Code::kProtocol, "WELCOME carries an unusable key");
  }

  std::string plain(reinterpret_cast<const char*>(public_key_.data()), 32);
  plain.append(reinterpret_cast<const char*>(vouch_nonce.data() + 8), 16);
  plain.append(reinterpret_cast<const char*>(vouch), sizeof vouch);
  add_property(plain, "Socket-Type", "DEALER");
  add_property(plain, "Identity", "");

  uint64_t short_nonce = next_nonce();
  auto n = nonce("CurveZMQINITIATE", short_nonce);
  std::string initiate("\x08INITIATE", 9);
  initiate.append(reinterpret_cast<const char*>(cookie_.data()), cookie_.size());
  initiate.append(reinterpret_cast<const char*>(n.data() + 16), 8);
  append_box(initiate, plain, n, shared_.data());
  append_frame(wire_.out(), kCommand, initiate);
  return ok_status();
}

Status CurveClient::on_ready(std::string_view body) {
  if (body.size() < 14 + kMac) return Error(Code::kProtocol, "a malformed READY");
  uint64_t short_nonce = get_u64(bytes(body) + 6);
  std::string metadata;
  if (!open_box(body.substr(14), nonce("CurveZMQREADY---", short_nonce), shared_.data(), &metadata))
    return Error(Code::kProtocol, "READY does not open with the session key");
  peer_nonce_ = short_nonce;
  SLIPWAY_ASSIGN_OR_RETURN(std::string type, find_property(metadata, "Socket-Type", "READY"));
  if (type != "ROUTER")
    return Error(Code::kProtocol, "the server is a " + type + " socket, not a ROUTER");
  state_ = State::kReady;
  return ok_status();
}

void CurveClient::send(std::string_view message) {
  if (state_ == State::kReady)
    append_message(wire_.out(), kFromClient, next_nonce(), 0, message, shared_.data());
}

Status CurveClient::on_message(std::string_view body, std::vector<std::string>* messages) {
  std::string plain;
  SLIPWAY_RETURN_IF_ERROR(open_message(body, kFromServer, &peer_nonce_, shared_.data(), &plain));
  uint8_t flags = static_cast<uint8_t>(plain[0]);
  if (flags & kBoxCommand) {
    // ZMTP 3.1 heartbeat: a PING is answered with a PONG; other commands are ignored.
    std::string pong = pong_for(std::string_view(plain).substr(1));
    if (!pong.empty())
      append_message(wire_.out(), kFromClient, next_nonce(), kBoxCommand, pong, shared_.data());
    return ok_status();
  }
  // The controller sends one frame per message; the frames after the first
  // of a multi-frame message are dropped.
  bool first = !dropping_more_;
  dropping_more_ = (flags & kBoxMore) != 0;
  if (first && messages != nullptr) messages->push_back(plain.substr(1));
  return ok_status();
}

}  // namespace slipway::agent
