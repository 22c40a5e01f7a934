// What both ends of a CurveZMQ connection share: ZMTP 3.1 framing (RFC 37),
// the greeting, command metadata, and the CURVE MESSAGE box (RFC 26). The
// agent's client (agent/curve_client.h) and the controller's server
// (common/curve_server.h) are built on it; neither does I/O.
//
// Thread-safe: plain functions on their arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace slipway::zmtp {

using Key = std::array<uint8_t, 32>;

// Frame flags (RFC 37).
inline constexpr uint8_t kMore = 0x01;
inline constexpr uint8_t kLong = 0x02;
inline constexpr uint8_t kCommand = 0x04;
// Flags inside a MESSAGE box: libzmq's msg_t flags.
inline constexpr uint8_t kBoxMore = 0x01;
inline constexpr uint8_t kBoxCommand = 0x02;

inline constexpr size_t kGreetingSize = 64;
inline constexpr size_t kMac = 16;    // crypto_box_MACBYTES
inline constexpr size_t kNonce = 24;  // crypto_box_NONCEBYTES
// "\x07MESSAGE", the short nonce, the MAC and the flags byte around a payload.
inline constexpr size_t kMessageOverhead = 8 + 8 + kMac + 1;

// The nonce prefixes of MESSAGE boxes, by direction.
inline constexpr std::string_view kFromClient = "CurveZMQMESSAGEC";
inline constexpr std::string_view kFromServer = "CurveZMQMESSAGES";

inline const uint8_t* bytes(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}
void put_u64(uint8_t* out, uint64_t value);
uint64_t get_u64(const uint8_t* in);

// A 24-byte nonce: the 16-byte `prefix` and a short nonce, big-endian.
std::array<uint8_t, kNonce> nonce(std::string_view prefix, uint64_t short_nonce);

// The 64-byte greeting of ZMTP 3.1 with the CURVE mechanism.
std::string greeting(bool as_server);
// Checks the peer's 64-byte greeting: ZMTP 3 or later, CURVE, and the role
// we expect the peer to take.
Status check_greeting(std::string_view greeting, bool peer_is_server);

// One complete frame at the front of a buffer.
struct Frame {
  uint8_t flags = 0;
  std::string_view body;
  size_t size = 0;  // header and body: what the frame takes in the buffer
};
// Reads the frame at the front of `pending`. False while it is incomplete,
// with `frame->size` set once the header is there; an error when the flags
// are reserved or the body would be larger than `max_body` (checked before
// the body is buffered).
Result<bool> next_frame(std::string_view pending, size_t max_body, Frame* frame);

// Appends one frame, with the short or long header its size needs.
void append_frame(std::string& out, uint8_t flags, std::string_view body);

// Appends one ZMTP metadata property.
void add_property(std::string& out, std::string_view name, std::string_view value);
// The value of property `wanted` in `metadata`; an error naming `command` when
// the metadata is malformed or lacks it.
Result<std::string> find_property(std::string_view metadata, std::string_view wanted,
                                  std::string_view command);

// Appends a MESSAGE frame carrying `payload` with `box_flags`, boxed in place
// with the session key `shared` (crypto_box_beforenm) under `prefix` and
// `short_nonce`.
void append_message(std::string& out, std::string_view prefix, uint64_t short_nonce,
                    uint8_t box_flags, std::string_view payload, const uint8_t* shared);
// Opens the MESSAGE frame `body`: its short nonce must be above `*last_nonce`,
// which it then becomes. `plain` gets the flags byte and the payload.
Status open_message(std::string_view body, std::string_view prefix, uint64_t* last_nonce,
                    const uint8_t* shared, std::string* plain);

// The PONG that answers a PING command ("\4PING", TTL, context), or nothing
// when `command` is not a PING.
std::string pong_for(std::string_view command);

// A 24-byte nonce: the 8-byte `prefix` and the 16 bytes at `tail`
// (WELCOME, COOKIE, VOUCH), or 16 random bytes.
std::array<uint8_t, kNonce> long_nonce(std::string_view prefix, const void* tail);
std::array<uint8_t, kNonce> random_nonce(std::string_view prefix);

// Appends `plain` boxed with the session key `shared` under nonce `n`: the
// MAC, then the ciphertext.
void append_box(std::string& out, std::string_view plain, const std::array<uint8_t, kNonce>& n,
                const uint8_t* shared);
// Opens `box` (MAC and ciphertext) with the session key into `plain`; false
// when it does not open.
bool open_box(std::string_view box, const std::array<uint8_t, kNonce>& n, const uint8_t* shared,
              std::string* plain);

// The bytes of one connection, for a session that does no I/O: what was
// read and not yet framed, and what waits to be written, starting with our
// greeting.
class Wire {
 public:
  explicit Wire(bool as_server) : out_(greeting(as_server)), as_server_(as_server) {}

  // Takes in bytes read: checks the peer's greeting once it is whole, then
  // hands each complete frame to `on_frame`, refusing one whose body is over
  // `max_body()` (asked before each frame, as the limit depends on the
  // session's state). Stops at the first error.
  Status read(std::string_view data, const std::function<size_t()>& max_body,
              const std::function<Status(const Frame&)>& on_frame);

  // Where frames to send are appended.
  std::string& out() { return out_; }
  // Bytes waiting to be written.
  std::string_view outbound() const { return std::string_view(out_).substr(out_sent_); }
  // Marks the first `n` bytes of outbound() as written.
  void written(size_t n);

 private:
  std::string in_;
  size_t in_used_ = 0;
  std::string out_;
  size_t out_sent_ = 0;
  bool as_server_;
  bool greeted_ = false;
};

}  // namespace slipway::zmtp
