// What a peer can send the agent's CurveZMQ client before it has proved to
// hold the controller's key (greeting, framing, WELCOME, ERROR, anything
// else) never crashes it and is either waited for or refused; a refused
// session stays refused. The first byte says where to cut the rest in two
// pieces, fed one after the other.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/curve/curve_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const slipway::crypto::KeyPair ours = slipway::crypto::generate_keypair().value();
  static const slipway::crypto::KeyPair server = slipway::crypto::generate_keypair().value();
  auto client = slipway::agent::CurveClient::create(ours.public_key, ours.secret_key,
                                                    server.public_key, 4096);
  if (!client.ok()) std::abort();
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = data[0] % size;
  std::vector<std::string> messages;
  auto first = (*client)->feed(input.substr(0, split), &messages);
  auto second = (*client)->feed(input.substr(split), &messages);
  if (!first.ok() && second.ok()) std::abort();  // a failed session stays failed
  // Without the server's secret key nothing gets past WELCOME.
  if ((*client)->welcomed() || (*client)->ready() || !messages.empty()) std::abort();
  return 0;
}
