// The msgpack adapter: unpacking with limits, and type-checked readers that
// never throw. Only common/ includes msgpack directly.
#pragma once

#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace slipway::mp {

// Unpacks exactly one msgpack object filling all of `bytes`. Element counts
// and nesting are bounded, so a small frame cannot ask for a huge allocation.
Result<msgpack::object_handle> unpack(std::string_view bytes);

// The value under string key `key` of a map object, or nullptr.
const msgpack::object* find(const msgpack::object& map, std::string_view key);

bool get_string(const msgpack::object& o, std::string* out);  // str only
bool get_bytes(const msgpack::object& o, std::string* out);   // bin or str
bool get_int(const msgpack::object& o, int64_t* out);         // any integer that fits

}  // namespace slipway::mp
