// The controller's side of one CurveZMQ connection, without libzmq: ZMTP 3.1
// framing (RFC 37), the CURVE handshake and message boxes (RFC 26), as a
// ROUTER talking to a DEALER. Like the agent's CurveClient it does no I/O:
// bytes read go into feed(), and what must be written collects in
// outbound().
//
// Why by hand: libzmq hands every message between its I/O thread and the
// controller's event loop, two more thread hand-offs on each hop of a woken
// get, and a virtual machine's idle CPUs make each one slow
// (docs/PERFORMANCE.md). The tests hold this server to libzmq's own CURVE
// client.
//
// A connection is untrusted until INITIATE proves that its peer holds a
// client key and `authorize` admits that key: before that, frames are
// limited to what a handshake command needs.
//
// Not thread-safe: one thread owns a session.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/curve/zmtp.h"
#include "common/status.h"

namespace slipway {

class CurveServer {
 public:
  // Whether a client key (Z85) may connect.
  using Authorize = std::function<bool(const std::string& client_key)>;

  // `public_key` and `secret_key` are the server's, raw; `max_message` bounds
  // one incoming message (libzmq's ZMQ_MAXMSGSIZE).
  CurveServer(const zmtp::Key& public_key, const zmtp::Key& secret_key, size_t max_message,
              Authorize authorize);
  ~CurveServer();
  CurveServer(const CurveServer&) = delete;
  CurveServer& operator=(const CurveServer&) = delete;

  // Takes in bytes read from the connection. Complete single-frame messages
  // are appended to `messages`; multi-frame ones are dropped and counted in
  // `*dropped`. An error means the connection is finished: kPermissionDenied
  // when `authorize` refused the client's key (an ERROR is then queued for
  // it), kProtocol for anything malformed, out of order, or failing
  // authentication.
  Status feed(std::string_view bytes, std::vector<std::string>* messages, size_t* dropped);

  // True once the handshake is done; send() needs it.
  bool ready() const { return state_ == State::kReady; }
  // The client's long-term key in Z85, once INITIATE has proved that the
  // client holds it (admitted or not); empty before.
  const std::string& client_key() const { return client_key_text_; }

  // Queues one single-frame message, boxed. Ignored before ready().
  void send(std::string_view message);

  // Bytes waiting to be written, starting with the greeting.
  std::string_view outbound() const { return wire_.outbound(); }
  // Marks the first `n` bytes of outbound() as written.
  void written(size_t n) { wire_.written(n); }

 private:
  enum class State { kExpectHello, kExpectInitiate, kReady, kFailed };

  Status on_frame(const zmtp::Frame& frame, std::vector<std::string>* messages, size_t* dropped);
  Status on_hello(std::string_view body);
  Status on_initiate(std::string_view body);
  Status on_message(std::string_view body, std::vector<std::string>* messages, size_t* dropped);

  zmtp::Key public_key_;
  zmtp::Key secret_key_;
  size_t max_message_;
  Authorize authorize_;
  zmtp::Key client_transient_{};
  zmtp::Key transient_public_{};
  zmtp::Key transient_secret_{};
  std::array<uint8_t, 96> cookie_{};
  std::array<uint8_t, 32> shared_{};  // crypto_box_beforenm(C', s')
  std::string client_key_text_;
  State state_ = State::kExpectHello;
  uint64_t nonce_ = 1;         // our short nonce: READY is 1, messages after
  uint64_t peer_nonce_ = 0;    // the client's last short nonce; each must be larger
  bool in_multipart_ = false;  // inside a multi-frame message being dropped
  zmtp::Wire wire_{true};
};

}  // namespace slipway
