// The agent's side of a CurveZMQ connection, without libzmq: ZMTP 3.1
// framing (RFC 37), the CURVE handshake and message boxes (RFC 26), as a
// DEALER talking to the controller's ROUTER. It does no I/O: bytes read
// from the socket go into feed(), and what must be written collects in
// outbound() until the caller has written it.
//
// Why by hand: libzmq runs every message through an I/O thread of its own,
// two thread hand-offs and about thirty system calls per message in the
// agent. A woken get crosses two agents, and on a virtual machine those
// hand-offs were most of its latency (docs/PERFORMANCE.md). The agent needs
// one connection to one peer and one frame per message, which is small
// enough to write here; the controller keeps libzmq, and the tests check
// this client against it.
//
// Not thread-safe: one thread (the agent's event loop) owns a session.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/curve/zmtp.h"
#include "common/status.h"

namespace slipway::agent {

class CurveClient {
 public:
  // A session for the key pair and the server's public key, all in Z85;
  // kInvalidArgument when one is not a valid key. `max_message` bounds what
  // one incoming message may hold; a peer that announces more is a protocol
  // error (libzmq's ZMQ_MAXMSGSIZE).
  static Result<std::unique_ptr<CurveClient>> create(std::string_view public_key,
                                                     std::string_view secret_key,
                                                     std::string_view server_key,
                                                     size_t max_message);
  ~CurveClient();
  CurveClient(const CurveClient&) = delete;
  CurveClient& operator=(const CurveClient&) = delete;

  // Takes in bytes read from the connection. Complete messages are appended
  // to `messages`. An error means the connection is finished: kPermissionDenied
  // when the server refused our key (its ERROR command), kProtocol for anything
  // malformed, out of order, or failing authentication.
  Status feed(std::string_view bytes, std::vector<std::string>* messages);

  // True once the handshake is done; send() needs it.
  bool ready() const { return state_ == State::kReady; }
  // True once the server has answered our HELLO: it knows our server key is
  // right. A connection closed before that likely means the key was wrong.
  bool welcomed() const { return state_ == State::kExpectReady || state_ == State::kReady; }

  // Queues one single-frame message, boxed.
  void send(std::string_view message);

  // Bytes waiting to be written, starting with the greeting and HELLO.
  std::string_view outbound() const { return wire_.outbound(); }
  // Marks the first `n` bytes of outbound() as written.
  void written(size_t n) { wire_.written(n); }

 private:
  CurveClient(const zmtp::Key& public_key, const zmtp::Key& secret_key, const zmtp::Key& server_key,
              size_t max_message);

  enum class State { kExpectWelcome, kExpectReady, kReady, kFailed };

  Status on_command(std::string_view body);
  Status on_welcome(std::string_view body);
  Status on_ready(std::string_view body);
  Status on_message(std::string_view body, std::vector<std::string>* messages);
  Status say_hello();
  Status send_initiate();
  uint64_t next_nonce() { return nonce_++; }

  zmtp::Key public_key_;
  zmtp::Key secret_key_;
  zmtp::Key server_key_;
  zmtp::Key transient_public_{};
  zmtp::Key transient_secret_{};
  zmtp::Key server_transient_{};
  std::array<uint8_t, 96> cookie_{};
  std::array<uint8_t, 32> shared_{};  // crypto_box_beforenm(S', c')
  size_t max_message_;
  State state_ = State::kExpectWelcome;
  uint64_t nonce_ = 1;          // our short nonce: HELLO is 1, INITIATE 2, messages after
  uint64_t peer_nonce_ = 0;     // the server's last short nonce; each must be larger
  bool dropping_more_ = false;  // inside a multi-frame message, after its first frame
  zmtp::Wire wire_{false};
};

}  // namespace slipway::agent
