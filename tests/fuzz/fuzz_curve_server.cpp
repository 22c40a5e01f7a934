// What a peer can send the controller's CurveZMQ server before it has proved
// to hold an admitted key (greeting, framing, HELLO, INITIATE, anything
// else) never crashes it and is either waited for or refused; a refused
// session stays refused, and nothing reaches the key check, let alone the
// controller. The first byte says where to cut the rest in two pieces, fed
// one after the other.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/curve/curve_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const slipway::crypto::KeyPair keys = slipway::crypto::generate_keypair().value();
  slipway::zmtp::Key public_key{}, secret_key{};
  if (!slipway::crypto::key_from_text(keys.public_key, public_key.data()) ||
      !slipway::crypto::key_from_text(keys.secret_key, secret_key.data())) {
    std::abort();
  }
  bool asked = false;
  slipway::CurveServer server(public_key, secret_key, 4096,
                              [&](const std::string&) { return asked = true; });
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = data[0] % size;
  std::vector<std::string> messages;
  size_t dropped = 0;
  auto first = server.feed(input.substr(0, split), &messages, &dropped);
  auto second = server.feed(input.substr(split), &messages, &dropped);
  if (!first.ok() && second.ok()) std::abort();  // a failed session stays failed
  // Without a client's secret key nothing gets past HELLO.
  if (asked || server.ready() || !messages.empty() || dropped != 0) std::abort();
  return 0;
}
