// Framing of the control socket and the agent's local socket: each message is
// a 4-byte big-endian length followed by that many bytes of msgpack.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace slipway::frame {

inline constexpr size_t kHeaderSize = 4;
// The largest control request or response (a module push, a report download).
inline constexpr size_t kMaxControlFrame = 64 << 20;

// Header plus payload, ready to write.
std::string encode(std::string_view payload);

// Reads the length from a 4-byte header.
uint32_t decode_header(const unsigned char* header);

// Blocking I/O on a stream socket, for the command-line programs.
// read_frame() fails with kUnavailable when the peer closed the socket, and
// kProtocol when the frame is larger than `max_size`.
Status write_frame(int fd, std::string_view payload);
Result<std::string> read_frame(int fd, size_t max_size);

}  // namespace slipway::frame
