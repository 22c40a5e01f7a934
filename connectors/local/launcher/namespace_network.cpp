#include "connectors/local/launcher/namespace_network.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace slipway::connectors::local::launcher {
namespace {

constexpr const char* kMachineInterface = "eth0";

Error net_error(const std::string& what) {
  return Error(Code::kIo,
               "cannot " + what + " in the machine's network namespace: " + std::strerror(errno));
}

ifreq request_for(const char* name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  return ifr;
}

sockaddr_in ipv4(in_addr_t address) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = address;
  return sin;
}

Status bring_up(int sock, const char* name) {
  ifreq ifr = request_for(name);
  if (::ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) return net_error(std::string("find ") + name);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(sock, SIOCSIFFLAGS, &ifr) != 0) return net_error(std::string("bring up ") + name);
  return ok_status();
}

Status set_address(int sock, in_addr_t address, in_addr_t netmask) {
  ifreq ifr = request_for(kMachineInterface);
  sockaddr_in sin = ipv4(address);
  std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
  if (::ioctl(sock, SIOCSIFADDR, &ifr) != 0) return net_error("set eth0's address");
  sin = ipv4(netmask);
  std::memcpy(&ifr.ifr_netmask, &sin, sizeof sin);
  if (::ioctl(sock, SIOCSIFNETMASK, &ifr) != 0) return net_error("set eth0's netmask");
  return ok_status();
}

Status add_default_route(int sock, in_addr_t gateway) {
  rtentry route{};
  sockaddr_in any = ipv4(INADDR_ANY), via = ipv4(gateway);
  std::memcpy(&route.rt_dst, &any, sizeof any);
  std::memcpy(&route.rt_genmask, &any, sizeof any);
  std::memcpy(&route.rt_gateway, &via, sizeof via);
  route.rt_flags = RTF_UP | RTF_GATEWAY;
  char device[IFNAMSIZ];
  std::strncpy(device, kMachineInterface, sizeof device);
  route.rt_dev = device;
  if (::ioctl(sock, SIOCADDRT, &route) != 0) return net_error("add the default route");
  return ok_status();
}

}  // namespace

Status configure_namespace_network(const std::string& address, const std::string& gateway) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return net_error("open a socket");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{sock};

  SLIPWAY_RETURN_IF_ERROR(bring_up(sock, "lo"));
  if (address.empty()) return ok_status();

  size_t slash = address.find('/');
  in_addr host{}, via{};
  int prefix = slash == std::string::npos ? -1 : std::atoi(address.c_str() + slash + 1);
  if (prefix < 1 || prefix > 32 ||
      ::inet_pton(AF_INET, address.substr(0, slash).c_str(), &host) != 1 ||
      ::inet_pton(AF_INET, gateway.c_str(), &via) != 1) {
    return Error(Code::kUsage, "bad --address or --gateway");
  }
  in_addr_t netmask = htonl(~uint32_t{0} << (32 - prefix));
  SLIPWAY_RETURN_IF_ERROR(set_address(sock, host.s_addr, netmask));
  SLIPWAY_RETURN_IF_ERROR(bring_up(sock, kMachineInterface));
  return add_default_route(sock, via.s_addr);
}

}  // namespace slipway::connectors::local::launcher
