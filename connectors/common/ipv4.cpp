#include "connectors/common/ipv4.h"

#include <cstdio>
#include <cstdlib>

namespace slipway::connectors {

std::string format_ipv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

Result<uint32_t> parse_ipv4(const std::string& text) {
  uint32_t out = 0;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t end = i < 3 ? text.find('.', start) : text.size();
    if (end == std::string::npos || end == start || end - start > 3) {
      return Error(Code::kInvalidArgument, "\"" + text + "\" is not an IPv4 address");
    }
    std::string part = text.substr(start, end - start);
    if (part.find_first_not_of("0123456789") != std::string::npos ||
        std::atoi(part.c_str()) > 255) {
      return Error(Code::kInvalidArgument, "\"" + text + "\" is not an IPv4 address");
    }
    out = (out << 8) | static_cast<uint32_t>(std::atoi(part.c_str()));
    start = end + 1;
  }
  return out;
}

Result<Ipv4Subnet> Ipv4Subnet::parse(const std::string& text) {
  size_t slash = text.find('/');
  const std::string bits = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (slash == std::string::npos || bits.empty() || bits.size() > 2 ||
      bits.find_first_not_of("0123456789") != std::string::npos) {
    return Error(Code::kInvalidArgument,
                 "subnet \"" + text + "\" must be written ADDRESS/PREFIX, like 10.213.0.0/24");
  }
  SLIPWAY_ASSIGN_OR_RETURN(uint32_t address, parse_ipv4(text.substr(0, slash)));
  Ipv4Subnet subnet{address, std::atoi(bits.c_str())};
  if (subnet.prefix < 16 || subnet.prefix > 28) {
    return Error(Code::kInvalidArgument, "subnet " + text + " must be a /16 to a /28");
  }
  if ((address & subnet.mask()) != address) {
    Ipv4Subnet fixed{address & subnet.mask(), subnet.prefix};
    return Error(Code::kInvalidArgument,
                 "subnet " + text + " has host bits set (did you mean " + fixed.to_string() + "?)");
  }
  return subnet;
}

std::string mac_for(uint32_t address) {
  char text[18];
  std::snprintf(text, sizeof text, "02:53:%02x:%02x:%02x:%02x", address >> 24,
                (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
  return text;
}

}  // namespace slipway::connectors
