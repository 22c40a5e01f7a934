#include "agent/curve_client.h"

#include <sodium.h>

#include <cstring>

#include "common/crypto.h"

namespace slipway::agent {
namespace {

// ZMTP frame flags (RFC 37).
constexpr uint8_t kMore = 0x01;
constexpr uint8_t kLong = 0x02;
constexpr uint8_t kCommand = 0x04;
// Flags inside a MESSAGE box: libzmq's msg_t flags.
constexpr uint8_t kBoxMore = 0x01;
constexpr uint8_t kBoxCommand = 0x02;

constexpr size_t kGreetingSize = 64;
constexpr size_t kMac = crypto_box_MACBYTES;      // 16
constexpr size_t kNonce = crypto_box_NONCEBYTES;  // 24
constexpr std::string_view kMessage = "\x07MESSAGE";
constexpr size_t kMessageHeader = 8 + 8;  // "\x07MESSAGE" and the short nonce

void put_u64(uint8_t* out, uint64_t value) {
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<uint8_t>(value);
}

uint64_t get_u64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | in[i];
  return value;
}

const uint8_t* bytes(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

std::array<uint8_t, kNonce> nonce(std::string_view prefix, uint64_t short_nonce) {
  std::array<uint8_t, kNonce> n{};
  std::memcpy(n.data(), prefix.data(), 16);
  put_u64(n.data() + 16, short_nonce);
  return n;
}

void add_property(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  uint8_t size[4] = {static_cast<uint8_t>(value.size() >> 24),
                     static_cast<uint8_t>(value.size() >> 16),
                     static_cast<uint8_t>(value.size() >> 8), static_cast<uint8_t>(value.size())};
  out.append(reinterpret_cast<const char*>(size), 4);
  out.append(value);
}

// The value of property `wanted` in ZMTP metadata; an error when the
// metadata is malformed or lacks it.
Result<std::string> find_property(std::string_view metadata, std::string_view wanted) {
  size_t at = 0;
  while (at < metadata.size()) {
    size_t name_size = static_cast<uint8_t>(metadata[at]);
    if (metadata.size() - at < 1 + name_size + 4)
      return Error(Code::kProtocol, "malformed metadata in READY");
    std::string_view name = metadata.substr(at + 1, name_size);
    at += 1 + name_size;
    const uint8_t* size_bytes = bytes(metadata) + at;
    size_t value_size = static_cast<size_t>(size_bytes[0]) << 24 | size_bytes[1] << 16 |
                        size_bytes[2] << 8 | size_bytes[3];
    at += 4;
    if (metadata.size() - at < value_size)
      return Error(Code::kProtocol, "malformed metadata in READY");
    if (name == wanted) return std::string(metadata.substr(at, value_size));
    at += value_size;
  }
  return Error(Code::kProtocol, "READY has no " + std::string(wanted));
}

// Drops the first `used` bytes of `buffer` once they are all of it or more
// than 64 KiB, so that bytes are not moved on every call.
void drop_front(std::string& buffer, size_t& used) {
  if (used == buffer.size()) {
    buffer.clear();
    used = 0;
  } else if (used > 65536) {
    buffer.erase(0, used);
    used = 0;
  }
}

}  // namespace

Result<std::unique_ptr<CurveClient>> CurveClient::create(std::string_view public_key,
                                                         std::string_view secret_key,
                                                         std::string_view server_key,
                                                         size_t max_message) {
  CurveKey ours{}, secret{}, server{};
  bool valid = crypto::key_from_text(public_key, ours.data()) &&
               crypto::key_from_text(secret_key, secret.data()) &&
               crypto::key_from_text(server_key, server.data());
  std::unique_ptr<CurveClient> client;
  if (valid) client.reset(new CurveClient(ours, secret, server, max_message));
  sodium_memzero(secret.data(), secret.size());
  if (!valid) return Error(Code::kInvalidArgument, "not a valid CURVE key");
  SLIPWAY_RETURN_IF_ERROR(client->say_hello());
  return client;
}

CurveClient::CurveClient(const CurveKey& public_key, const CurveKey& secret_key,
                         const CurveKey& server_key, size_t max_message)
    : public_key_(public_key),
      secret_key_(secret_key),
      server_key_(server_key),
      max_message_(max_message) {
  crypto::init();
  crypto_box_keypair(transient_public_.data(), transient_secret_.data());
}

Status CurveClient::say_hello() {
  // Greeting (RFC 37): signature, version 3.1, mechanism CURVE, as-server 0.
  std::string greeting(kGreetingSize, '\0');
  greeting[0] = '\xff';
  greeting[9] = '\x7f';
  greeting[10] = 3;
  greeting[11] = 1;
  std::memcpy(greeting.data() + 12, "CURVE", 5);
  out_ = greeting;

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
  queue_frame(kCommand, hello);
  return ok_status();
}

CurveClient::~CurveClient() {
  sodium_memzero(secret_key_.data(), secret_key_.size());
  sodium_memzero(transient_secret_.data(), transient_secret_.size());
  sodium_memzero(shared_.data(), shared_.size());
}

Status CurveClient::fail(Code code, std::string message) {
  state_ = State::kFailed;
  return Error(code, std::move(message));
}

void CurveClient::written(size_t n) {
  out_sent_ += n;
  drop_front(out_, out_sent_);
}

void CurveClient::queue_frame(uint8_t flags, std::string_view body) {
  if (body.size() > 255) {
    out_.push_back(static_cast<char>(flags | kLong));
    uint8_t size[8];
    put_u64(size, body.size());
    out_.append(reinterpret_cast<const char*>(size), 8);
  } else {
    out_.push_back(static_cast<char>(flags));
    out_.push_back(static_cast<char>(body.size()));
  }
  out_.append(body);
}

Status CurveClient::feed(std::string_view data, std::vector<std::string>* messages) {
  if (state_ == State::kFailed) return Error(Code::kProtocol, "the connection has failed");
  in_.append(data);
  while (true) {
    std::string_view pending = std::string_view(in_).substr(in_used_);
    if (state_ == State::kExpectGreeting) {
      if (pending.size() < kGreetingSize) break;
      const uint8_t* g = bytes(pending);
      if (g[0] != 0xff || (g[9] & 0x01) == 0 || g[10] < 3)
        return fail(Code::kProtocol, "the peer does not speak ZMTP 3");
      static const char kCurve[20] = "CURVE";
      if (std::memcmp(g + 12, kCurve, sizeof kCurve) != 0)
        return fail(Code::kProtocol, "the peer does not use the CURVE mechanism");
      in_used_ += kGreetingSize;
      state_ = State::kExpectWelcome;
      continue;
    }
    if (pending.size() < 2) break;
    uint8_t flags = static_cast<uint8_t>(pending[0]);
    if ((flags & ~(kMore | kLong | kCommand)) != 0)
      return fail(Code::kProtocol, "a frame with reserved flags set");
    size_t header = (flags & kLong) ? 9 : 2;
    if (pending.size() < header) break;
    uint64_t size = (flags & kLong) ? get_u64(bytes(pending) + 1) : bytes(pending)[1];
    if (size > max_message_ + kMessageHeader + kMac + 1)
      return fail(Code::kProtocol, "a frame of " + std::to_string(size) + " bytes, over the limit");
    if (pending.size() - header < size) {
      in_.reserve(in_used_ + header + size);
      break;
    }
    std::string_view body = pending.substr(header, size);
    in_used_ += header + size;
    // After the handshake every frame is a MESSAGE box.
    Status handled = state_ == State::kReady ? on_message(body, messages) : on_command(body);
    if (!handled.ok()) {
      state_ = State::kFailed;
      return handled;
    }
  }
  drop_front(in_, in_used_);
  return ok_status();
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
  std::array<uint8_t, kNonce> n{};
  std::memcpy(n.data(), "WELCOME-", 8);
  std::memcpy(n.data() + 8, body.data() + 8, 16);
  uint8_t plain[128];
  if (crypto_box_open_easy(plain, bytes(body) + 24, 144, n.data(), server_key_.data(),
                           transient_secret_.data()) != 0) {
    return Error(Code::kProtocol, "WELCOME does not come from the expected server key");
  }
  std::memcpy(server_transient_.data(), plain, 32);
  std::memcpy(cookie_.data(), plain + 32, 96);
  sodium_memzero(plain, sizeof plain);
  if (crypto_box_beforenm(shared_.data(), server_transient_.data(), transient_secret_.data()) != 0)
    return Error(Code::kProtocol, "WELCOME carries an unusable key");
  state_ = State::kExpectReady;
  return send_initiate();
}

Status CurveClient::send_initiate() {
  // Vouch: our transient key and the server's key, boxed with our long-term
  // key, which proves that the holder of C opened this connection.
  std::array<uint8_t, kNonce> vouch_nonce{};
  std::memcpy(vouch_nonce.data(), "VOUCH---", 8);
  randombytes_buf(vouch_nonce.data() + 8, 16);
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
  size_t at = initiate.size();
  initiate.resize(at + kMac + plain.size());
  crypto_box_easy_afternm(reinterpret_cast<uint8_t*>(initiate.data() + at), bytes(plain),
                          plain.size(), n.data(), shared_.data());
  queue_frame(kCommand, initiate);
  return ok_status();
}

Status CurveClient::on_ready(std::string_view body) {
  if (body.size() < 14 + kMac) return Error(Code::kProtocol, "a malformed READY");
  uint64_t short_nonce = get_u64(bytes(body) + 6);
  auto n = nonce("CurveZMQREADY---", short_nonce);
  std::string metadata(body.size() - 14 - kMac, '\0');
  if (crypto_box_open_easy_afternm(reinterpret_cast<uint8_t*>(metadata.data()), bytes(body) + 14,
                                   body.size() - 14, n.data(), shared_.data()) != 0) {
    return Error(Code::kProtocol, "READY does not open with the session key");
  }
  peer_nonce_ = short_nonce;
  SLIPWAY_ASSIGN_OR_RETURN(std::string type, find_property(metadata, "Socket-Type"));
  if (type != "ROUTER")
    return Error(Code::kProtocol, "the server is a " + type + " socket, not a ROUTER");
  state_ = State::kReady;
  return ok_status();
}

void CurveClient::send(std::string_view message) {
  if (state_ == State::kReady) queue_message(0, message);
}

void CurveClient::queue_message(uint8_t box_flags, std::string_view payload) {
  uint64_t short_nonce = next_nonce();
  auto n = nonce("CurveZMQMESSAGEC", short_nonce);
  std::string plain;
  plain.reserve(1 + payload.size());
  plain.push_back(static_cast<char>(box_flags));
  plain.append(payload);
  std::string boxed(kMessage);
  boxed.append(reinterpret_cast<const char*>(n.data() + 16), 8);
  size_t at = boxed.size();
  boxed.resize(at + kMac + plain.size());
  crypto_box_easy_afternm(reinterpret_cast<uint8_t*>(boxed.data() + at), bytes(plain), plain.size(),
                          n.data(), shared_.data());
  queue_frame(0, boxed);
}

Status CurveClient::on_message(std::string_view body, std::vector<std::string>* messages) {
  if (body.size() < kMessageHeader + kMac + 1 || body.substr(0, 8) != kMessage)
    return Error(Code::kProtocol, "a malformed MESSAGE");
  uint64_t short_nonce = get_u64(bytes(body) + 8);
  if (short_nonce <= peer_nonce_)
    return Error(Code::kProtocol, "a MESSAGE replayed or out of order");
  auto n = nonce("CurveZMQMESSAGES", short_nonce);
  std::string plain(body.size() - kMessageHeader - kMac, '\0');
  if (crypto_box_open_easy_afternm(reinterpret_cast<uint8_t*>(plain.data()),
                                   bytes(body) + kMessageHeader, body.size() - kMessageHeader,
                                   n.data(), shared_.data()) != 0) {
    return Error(Code::kProtocol, "a MESSAGE that does not open with the session key");
  }
  peer_nonce_ = short_nonce;
  uint8_t flags = static_cast<uint8_t>(plain[0]);
  if (flags & kBoxCommand) {
    // ZMTP 3.1 heartbeat: answer a PING ("\4PING", TTL, context) with a PONG.
    std::string_view command = std::string_view(plain).substr(1);
    if (command.size() >= 7 && command.substr(0, 5) == "\x04PING") {
      std::string pong("\x04PONG", 5);
      pong.append(command.substr(7, 16));
      queue_message(kBoxCommand, pong);
    }
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
