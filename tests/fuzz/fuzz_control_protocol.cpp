// The control protocol's decoders (control_protocol.h) never crash on any
// msgpack map, whichever operation it claims to be, and what one decodes
// encodes to a request that decodes to the same again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/value.h"
#include "controller/control/control_protocol.h"

namespace cp = slipway::control_protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto value = slipway::Value::unpack(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!value.ok() || !value->is_object()) return 0;
  // As sent, then as each operation: every decoder meets every input.
  std::vector<slipway::Value> requests = {*value};
  for (auto op : cp::kOperations) {
    slipway::Value as_op = *value;
    as_op.set(std::string(cp::kOp), std::string(op));
    requests.push_back(std::move(as_op));
  }
  for (const auto& request : requests) {
    auto decoded = cp::normalize(request);
    if (!decoded.ok()) {
      if (decoded.error().message().empty()) std::abort();  // every refusal says why
      continue;
    }
    auto again = cp::normalize(*decoded);
    if (!again.ok() || again->pack() != decoded->pack()) std::abort();
  }
  return 0;
}
