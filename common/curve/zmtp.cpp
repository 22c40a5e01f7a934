#include "common/curve/zmtp.h"

#include <sodium.h>

#include <cstring>

namespace slipway::zmtp {

void put_u64(uint8_t* out, uint64_t value) {
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<uint8_t>(value);
}

uint64_t get_u64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | in[i];
  return value;
}

std::array<uint8_t, kNonce> nonce(std::string_view prefix, uint64_t short_nonce) {
  std::array<uint8_t, kNonce> n{};
  std::memcpy(n.data(), prefix.data(), 16);
  put_u64(n.data() + 16, short_nonce);
  return n;
}

std::string greeting(bool as_server) {
  // Signature, version 3.1, mechanism CURVE (zero-padded to 20), as-server.
  std::string g(kGreetingSize, '\0');
  g[0] = '\xff';
  g[9] = '\x7f';
  g[10] = 3;
  g[11] = 1;
  std::memcpy(g.data() + 12, "CURVE", 5);
  g[32] = as_server ? 1 : 0;
  return g;
}

Status check_greeting(std::string_view greeting, bool peer_is_server) {
  const uint8_t* g = bytes(greeting);
  if (greeting.size() < kGreetingSize || g[0] != 0xff || (g[9] & 0x01) == 0 || g[10] < 3)
    return Error(Code::kProtocol, "the peer does not speak ZMTP 3");
  static const char kCurve[20] = "CURVE";
  if (std::memcmp(g + 12, kCurve, sizeof kCurve) != 0)
    return Error(Code::kProtocol, "the peer does not use the CURVE mechanism");
  // A client takes the server's role for granted (libzmq does not set it).
  if (!peer_is_server && g[32] != 0)
    return Error(Code::kProtocol, "the peer claims to be a CURVE server too");
  return ok_status();
}

Result<bool> next_frame(std::string_view pending, size_t max_body, Frame* frame) {
  if (pending.size() < 2) return false;
  uint8_t flags = static_cast<uint8_t>(pending[0]);
  if ((flags & ~(kMore | kLong | kCommand)) != 0)
    return Error(Code::kProtocol, "a frame with reserved flags set");
  size_t header = (flags & kLong) ? 9 : 2;
  if (pending.size() < header) return false;
  uint64_t size = (flags & kLong) ? get_u64(bytes(pending) + 1) : bytes(pending)[1];
  if (size > max_body)
    return Error(Code::kProtocol, "a frame of " + std::to_string(size) + " bytes, over the limit");
  frame->size = header + size;  // known now, so that a reader can make room for it
  if (pending.size() - header < size) return false;
  frame->flags = flags;
  frame->body = pending.substr(header, size);
  return true;
}

namespace {
void append_header(std::string& out, uint8_t flags, size_t size) {
  if (size > 255) {
    out.push_back(static_cast<char>(flags | kLong));
    uint8_t wide[8];
    put_u64(wide, size);
    out.append(reinterpret_cast<const char*>(wide), 8);
  } else {
    out.push_back(static_cast<char>(flags));
    out.push_back(static_cast<char>(size));
  }
}
}  // namespace

void append_frame(std::string& out, uint8_t flags, std::string_view body) {
  append_header(out, flags, body.size());
  out.append(body);
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

Result<std::string> find_property(std::string_view metadata, std::string_view wanted,
                                  std::string_view command) {
  size_t at = 0;
  while (at < metadata.size()) {
    size_t name_size = static_cast<uint8_t>(metadata[at]);
    if (metadata.size() - at < 1 + name_size + 4)
      return Error(Code::kProtocol, "malformed metadata in " + std::string(command));
    std::string_view name = metadata.substr(at + 1, name_size);
    at += 1 + name_size;
    const uint8_t* size_bytes = bytes(metadata) + at;
    size_t value_size = static_cast<size_t>(size_bytes[0]) << 24 | size_bytes[1] << 16 |
                        size_bytes[2] << 8 | size_bytes[3];
    at += 4;
    if (metadata.size() - at < value_size)
      return Error(Code::kProtocol, "malformed metadata in " + std::string(command));
    if (name == wanted) return std::string(metadata.substr(at, value_size));
    at += value_size;
  }
  return Error(Code::kProtocol, std::string(command) + " has no " + std::string(wanted));
}

void append_message(std::string& out, std::string_view prefix, uint64_t short_nonce,
                    uint8_t box_flags, std::string_view payload, const uint8_t* shared) {
  auto n = nonce(prefix, short_nonce);
  append_header(out, 0, kMessageOverhead + payload.size());
  out.append("\x07MESSAGE", 8);
  out.append(reinterpret_cast<const char*>(n.data() + 16), 8);
  // The flags and payload go where the box will be, past room for the MAC,
  // and are boxed in place: libsodium allows the two to overlap.
  size_t box = out.size();
  out.resize(box + kMac);
  out.push_back(static_cast<char>(box_flags));
  out.append(payload);
  auto* at = reinterpret_cast<uint8_t*>(out.data() + box);
  crypto_box_easy_afternm(at, at + kMac, 1 + payload.size(), n.data(), shared);
}

Status open_message(std::string_view body, std::string_view prefix, uint64_t* last_nonce,
                    const uint8_t* shared, std::string* plain) {
  if (body.size() < kMessageOverhead || body.substr(0, 8) != "\x07MESSAGE")
    return Error(Code::kProtocol, "a malformed MESSAGE");
  uint64_t short_nonce = get_u64(bytes(body) + 8);
  if (short_nonce <= *last_nonce)
    return Error(Code::kProtocol, "a MESSAGE replayed or out of order");
  if (!open_box(body.substr(16), nonce(prefix, short_nonce), shared, plain))
    return Error(Code::kProtocol, "a MESSAGE that does not open with the session key");
  *last_nonce = short_nonce;
  return ok_status();
}

std::string pong_for(std::string_view command) {
  if (command.size() < 7 || command.substr(0, 5) != "\x04PING") return {};
  std::string pong("\x04PONG", 5);
  pong.append(command.substr(7, 16));
  return pong;
}

std::array<uint8_t, kNonce> long_nonce(std::string_view prefix, const void* tail) {
  std::array<uint8_t, kNonce> n{};
  std::memcpy(n.data(), prefix.data(), 8);
  std::memcpy(n.data() + 8, tail, 16);
  return n;
}

std::array<uint8_t, kNonce> random_nonce(std::string_view prefix) {
  uint8_t tail[16];
  randombytes_buf(tail, sizeof tail);
  return long_nonce(prefix, tail);
}

void append_box(std::string& out, std::string_view plain, const std::array<uint8_t, kNonce>& n,
                const uint8_t* shared) {
  size_t at = out.size();
  out.resize(at + kMac + plain.size());
  crypto_box_easy_afternm(reinterpret_cast<uint8_t*>(out.data() + at), bytes(plain), plain.size(),
                          n.data(), shared);
}

bool open_box(std::string_view box, const std::array<uint8_t, kNonce>& n, const uint8_t* shared,
              std::string* plain) {
  if (box.size() < kMac) return false;
  plain->resize(box.size() - kMac);
  return crypto_box_open_easy_afternm(reinterpret_cast<uint8_t*>(plain->data()), bytes(box),
                                      box.size(), n.data(), shared) == 0;
}

namespace {
// Drops the first `used` bytes of `buffer` once they are all of it, or more
// than 64 KiB and at least half of it: each byte is moved a bounded number
// of times, however large the buffer grows. An emptied buffer of more than
// 64 KiB gives its memory back.
void drop_front(std::string& buffer, size_t& used) {
  if (used == buffer.size()) {
    if (buffer.capacity() > 65536)
      std::string().swap(buffer);
    else
      buffer.clear();
    used = 0;
  } else if (used > 65536 && used * 2 >= buffer.size()) {
    buffer.erase(0, used);
    used = 0;
  }
}
}  // namespace

void Wire::written(size_t n) {
  out_sent_ += n;
  drop_front(out_, out_sent_);
}

Status Wire::read(std::string_view data, const std::function<size_t()>& max_body,
                  const std::function<Status(const Frame&)>& on_frame) {
  in_.append(data);
  Status status = ok_status();
  while (status.ok()) {
    std::string_view pending = std::string_view(in_).substr(in_used_);
    if (!greeted_) {
      if (pending.size() < kGreetingSize) break;
      status = check_greeting(pending.substr(0, kGreetingSize), !as_server_);
      in_used_ += kGreetingSize;
      greeted_ = true;
      continue;
    }
    Frame frame;
    auto complete = next_frame(pending, max_body(), &frame);
    if (!complete.ok()) {
      status = complete.error();
    } else if (!*complete) {
      // Room for the frame, once its header says how large it is (within
      // max_body), so that a long frame is not copied at every read.
      if (frame.size > 0) in_.reserve(in_used_ + frame.size);
      break;
    } else {
      in_used_ += frame.size;
      status = on_frame(frame);
    }
  }
  drop_front(in_, in_used_);
  return status;
}

}  // namespace slipway::zmtp
