#include "common/msgpack_util.h"

#include <cstdint>
#include <exception>
#include <limits>

namespace slipway::mp {

Result<msgpack::object_handle> unpack(std::string_view bytes) {
  // Bounds on what one frame may declare. Sizes of str/bin are bounded by the
  // frame itself (msgpack checks the declared size against the data left).
  const msgpack::unpack_limit limit(/*array=*/65536, /*map=*/4096, /*str=*/bytes.size(),
                                    /*bin=*/bytes.size(), /*ext=*/0, /*depth=*/16);
  try {
    size_t offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size()) {
      return Error(Code::kProtocol,
                   "message has " + std::to_string(bytes.size() - offset) + " bytes after its end");
    }
    return handle;
  } catch (const msgpack::insufficient_bytes&) {
    return Error(Code::kProtocol, "message is truncated");
  } catch (const std::exception& e) {
    return Error(Code::kProtocol, std::string("message is not valid msgpack (") + e.what() + ")");
  }
}

const msgpack::object* find(const msgpack::object& map, std::string_view key) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object& k = map.via.map.ptr[i].key;
    if (k.type == msgpack::type::STR && std::string_view(k.via.str.ptr, k.via.str.size) == key) {
      return &map.via.map.ptr[i].val;
    }
  }
  return nullptr;
}

bool get_string(const msgpack::object& o, std::string* out) {
  if (o.type != msgpack::type::STR) return false;
  out->assign(o.via.str.ptr, o.via.str.size);
  return true;
}

bool get_bytes(const msgpack::object& o, std::string* out) {
  if (o.type == msgpack::type::BIN) {
    out->assign(o.via.bin.ptr, o.via.bin.size);
    return true;
  }
  return get_string(o, out);
}

bool get_int(const msgpack::object& o, int64_t* out) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    *out = o.via.i64;
    return true;
  }
  if (o.type == msgpack::type::POSITIVE_INTEGER &&
      o.via.u64 <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    *out = static_cast<int64_t>(o.via.u64);
    return true;
  }
  return false;
}

}  // namespace slipway::mp
