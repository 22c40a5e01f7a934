#include "common/frame.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace slipway::frame {
namespace {

Status read_exact(int fd, char* data, size_t size, bool* eof_at_start) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::recv(fd, data + done, size - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Code::kUnavailable, std::string("connection failed: ") + std::strerror(errno));
    }
    if (n == 0) {
      if (eof_at_start) *eof_at_start = done == 0;
      return Error(Code::kUnavailable, "the other side closed the connection");
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace

std::string encode(std::string_view payload) {
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  uint32_t n = static_cast<uint32_t>(payload.size());
  out += static_cast<char>((n >> 24) & 0xFF);
  out += static_cast<char>((n >> 16) & 0xFF);
  out += static_cast<char>((n >> 8) & 0xFF);
  out += static_cast<char>(n & 0xFF);
  out.append(payload);
  return out;
}

uint32_t decode_header(const unsigned char* h) {
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | uint32_t{h[3]};
}

Status write_frame(int fd, std::string_view payload) {
  std::string data = encode(payload);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Code::kUnavailable, std::string("cannot send: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Result<std::string> read_frame(int fd, size_t max_size) {
  unsigned char header[kHeaderSize];
  SLIPWAY_RETURN_IF_ERROR(read_exact(fd, reinterpret_cast<char*>(header), kHeaderSize, nullptr));
  uint32_t size = decode_header(header);
  if (size > max_size) {
    return Error(Code::kProtocol, "frame of " + std::to_string(size) + " bytes is over the limit");
  }
  std::string payload(size, '\0');
  SLIPWAY_RETURN_IF_ERROR(read_exact(fd, payload.data(), size, nullptr));
  return payload;
}

}  // namespace slipway::frame
