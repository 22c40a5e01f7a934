// A strict JSON reader for tests, so they can check `slipway --json` output
// the way a user's script would.
#pragma once

#include <string_view>

#include "common/status.h"
#include "common/value.h"

namespace slipway::test {

Result<Value> parse_json(std::string_view text);

}  // namespace slipway::test
