#include "common/protocol.h"

#include <msgpack.hpp>

#include "common/msgpack_util.h"

namespace slipway::proto {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

// ------------------------------------------------------------ encoding

template <typename T>
void pack_value(Packer& p, const T& value);

struct FieldCounter {
  uint32_t count = 0;
  template <typename T>
  void operator()(const char*, T&) {
    ++count;
  }
  void bin(const char*, std::string&) { ++count; }
};

struct FieldPacker {
  Packer& p;
  template <typename T>
  void operator()(const char* name, T& value) {
    p.pack(std::string_view(name));
    pack_value(p, value);
  }
  void bin(const char* name, std::string& value) {
    p.pack(std::string_view(name));
    p.pack_bin(static_cast<uint32_t>(value.size()));
    p.pack_bin_body(value.data(), static_cast<uint32_t>(value.size()));
  }
};

template <typename T>
void pack_struct(Packer& p, const T& value) {
  T& mutable_value = const_cast<T&>(value);  // visit() is shared with decoding
  FieldCounter counter;
  mutable_value.visit(counter);
  p.pack_map(counter.count);
  FieldPacker packer{p};
  mutable_value.visit(packer);
}

template <typename T>
void pack_value(Packer& p, const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    p.pack(value);
  } else if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) {
    p.pack(value);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    p.pack(value);
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    p.pack(value);
  } else if constexpr (std::is_same_v<T, std::vector<Step>>) {
    p.pack_array(static_cast<uint32_t>(value.size()));
    for (const auto& step : value) pack_struct(p, step);
  } else {
    pack_struct(p, value);
  }
}

template <typename M>
std::string encode_message(const M& message) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  return std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        T& mutable_m = const_cast<T&>(m);
        FieldCounter counter;
        mutable_m.visit(counter);
        p.pack_map(counter.count + 2);
        p.pack(std::string_view("v"));
        p.pack(kVersion);
        p.pack(std::string_view("t"));
        p.pack(T::kType);
        FieldPacker packer{p};
        mutable_m.visit(packer);
        return std::string(buffer.data(), buffer.size());
      },
      message);
}

// ------------------------------------------------------------ decoding

template <typename T>
Status read_value(const msgpack::object& o, T* out, const std::string& where);

struct FieldReader {
  const msgpack::object& map;
  std::string type;
  Status status;

  template <typename T>
  void operator()(const char* name, T& value) {
    if (!status.ok()) return;
    const msgpack::object* field = mp::find(map, name);
    if (field == nullptr) {
      status = Error(Code::kProtocol, "message " + type + " lacks field " + name);
      return;
    }
    status = read_value(*field, &value, type + "." + name);
  }
  void bin(const char* name, std::string& value) {
    if (!status.ok()) return;
    const msgpack::object* field = mp::find(map, name);
    if (field == nullptr) {
      status = Error(Code::kProtocol, "message " + type + " lacks field " + name);
      return;
    }
    if (!mp::get_bytes(*field, &value)) {
      status = Error(Code::kProtocol, "field " + type + "." + name + " is not bytes");
    }
  }
};

template <typename T>
Status read_struct(const msgpack::object& o, T* out, const std::string& where) {
  if (o.type != msgpack::type::MAP) return Error(Code::kProtocol, where + " is not a map");
  FieldReader reader{o, where, ok_status()};
  out->visit(reader);
  return reader.status;
}

Error mistyped(const std::string& where, const char* expected) {
  return Error(Code::kProtocol, "field " + where + " is not " + expected);
}

template <typename T>
Status read_value(const msgpack::object& o, T* out, const std::string& where) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!mp::get_string(o, out)) return mistyped(where, "a string");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (o.type != msgpack::type::BOOLEAN) return mistyped(where, "a boolean");
    *out = o.via.boolean;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (!mp::get_int(o, out)) return mistyped(where, "an integer");
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    if (o.type != msgpack::type::POSITIVE_INTEGER) return mistyped(where, "an unsigned integer");
    *out = o.via.u64;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (o.type != msgpack::type::ARRAY) return mistyped(where, "an array");
    out->clear();
    out->reserve(o.via.array.size);
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      std::string item;
      if (!mp::get_string(o.via.array.ptr[i], &item)) return mistyped(where, "an array of strings");
      out->push_back(std::move(item));
    }
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    if (o.type != msgpack::type::MAP) return mistyped(where, "a map");
    out->clear();
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      std::string key, value;
      if (!mp::get_string(o.via.map.ptr[i].key, &key) ||
          !mp::get_string(o.via.map.ptr[i].val, &value)) {
        return mistyped(where, "a map of strings");
      }
      (*out)[std::move(key)] = std::move(value);
    }
  } else if constexpr (std::is_same_v<T, std::vector<Step>>) {
    if (o.type != msgpack::type::ARRAY) return mistyped(where, "an array");
    out->clear();
    out->resize(o.via.array.size);
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      SLIPWAY_RETURN_IF_ERROR(read_struct(o.via.array.ptr[i], &(*out)[i], where));
    }
  } else {
    return read_struct(o, out, where);
  }
  return ok_status();
}

template <typename Variant, size_t I = 0>
Result<Variant> decode_as(std::string_view type, const msgpack::object& map) {
  if constexpr (I == std::variant_size_v<Variant>) {
    return Error(Code::kProtocol, "unknown message type \"" + std::string(type) + "\"");
  } else {
    using T = std::variant_alternative_t<I, Variant>;
    if (type == T::kType) {
      T message;
      FieldReader reader{map, std::string(type), ok_status()};
      message.visit(reader);
      if (!reader.status.ok()) return reader.status.error();
      return Variant(std::move(message));
    }
    return decode_as<Variant, I + 1>(type, map);
  }
}

template <typename Variant>
Result<Variant> decode_message(std::string_view frame) {
  if (frame.size() > kMaxMessageSize) {
    return Error(Code::kProtocol, "message of " + std::to_string(frame.size()) +
                                      " bytes is over the limit of " +
                                      std::to_string(kMaxMessageSize));
  }
  SLIPWAY_ASSIGN_OR_RETURN(msgpack::object_handle handle, mp::unpack(frame));
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) return Error(Code::kProtocol, "message is not a map");
  int64_t version = 0;
  const msgpack::object* v = mp::find(root, "v");
  if (v == nullptr || !mp::get_int(*v, &version)) {
    return Error(Code::kProtocol, "message has no protocol version");
  }
  if (version != kVersion) {
    return Error(Code::kProtocol, "message has protocol version " + std::to_string(version) +
                                      ", this program speaks " + std::to_string(kVersion));
  }
  std::string type;
  const msgpack::object* t = mp::find(root, "t");
  if (t == nullptr || !mp::get_string(*t, &type)) {
    return Error(Code::kProtocol, "message has no type");
  }
  return decode_as<Variant>(type, root);
}

}  // namespace

std::string encode(const AgentMessage& message) {
  return encode_message(message);
}
std::string encode(const ControllerMessage& message) {
  return encode_message(message);
}

Result<AgentMessage> decode_agent_message(std::string_view frame) {
  return decode_message<AgentMessage>(frame);
}

Result<ControllerMessage> decode_controller_message(std::string_view frame) {
  return decode_message<ControllerMessage>(frame);
}

std::string_view type_name(const AgentMessage& message) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, message);
}

std::string_view type_name(const ControllerMessage& message) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, message);
}

}  // namespace slipway::proto
