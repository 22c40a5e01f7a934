#include "support/icmp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

namespace slipway::test {
namespace {

uint16_t checksum(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < size; i += 2)
    sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
  if (size % 2 != 0) sum += static_cast<uint32_t>(bytes[size - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

// A raw socket belongs to the network namespace it was made in, whatever
// thread uses it later; the switch happens on a throwaway thread so the
// caller's namespace never changes.
int raw_socket_in(const std::string& netns_path) {
  if (netns_path.empty()) return ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  int fd = -1;
  std::thread([&] {
    int target = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) return;
    if (::setns(target, CLONE_NEWNET) == 0)
      fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    ::close(target);
  }).join();
  return fd;
}

}  // namespace

bool icmp_echo(const std::string& address, int timeout_ms, const std::string& netns_path) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  if (::inet_pton(AF_INET, address.c_str(), &to.sin_addr) != 1) return false;
  int fd = raw_socket_in(netns_path);
  if (fd < 0) return false;
  const uint16_t id = static_cast<uint16_t>(std::random_device{}());
  icmphdr request{};
  request.type = ICMP_ECHO;
  request.un.echo.id = htons(id);
  request.un.echo.sequence = htons(1);
  request.checksum = checksum(&request, sizeof request);
  bool replied = false;
  if (::sendto(fd, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!replied) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd p{fd, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
      uint8_t packet[1500];
      sockaddr_in from{};
      socklen_t from_size = sizeof from;
      ssize_t n =
          ::recvfrom(fd, packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&from), &from_size);
      if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
      const auto* ip = reinterpret_cast<const iphdr*>(packet);
      size_t header = static_cast<size_t>(ip->ihl) * 4;
      if (static_cast<size_t>(n) < header + sizeof(icmphdr)) continue;
      icmphdr reply;
      std::memcpy(&reply, packet + header, sizeof reply);
      replied = reply.type == ICMP_ECHOREPLY && ntohs(reply.un.echo.id) == id &&
                from.sin_addr.s_addr == to.sin_addr.s_addr;
    }
  }
  ::close(fd);
  return replied;
}

}  // namespace slipway::test
