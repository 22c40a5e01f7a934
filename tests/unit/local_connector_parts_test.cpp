// The local connector's pure parts: subnet arithmetic, machine records and
// the names reap() relies on. (The connector itself is tested on the host in
// tests/integration/local_connector_test.cpp.)
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "connectors/common/pidfd.h"
#include "connectors/local/machine_dir.h"
#include "connectors/local/settings.h"

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::connectors::local;

TEST_CASE("local subnets give the bridge .1 and machines the rest but broadcast", "[unit][local]") {
  auto s28 = Ipv4Subnet::parse("10.213.0.16/28");
  REQUIRE(s28.ok());
  CHECK(format_ipv4(s28->bridge_address()) == "10.213.0.17");
  CHECK(format_ipv4(s28->first_machine_address()) == "10.213.0.18");
  CHECK(format_ipv4(s28->last_machine_address()) == "10.213.0.30");
  auto s16 = Ipv4Subnet::parse("10.213.0.0/16");
  REQUIRE(s16.ok());
  CHECK(format_ipv4(s16->last_machine_address()) == "10.213.255.254");
  CHECK(s16->contains(*parse_ipv4("10.213.77.1")));
  CHECK_FALSE(s16->contains(*parse_ipv4("10.214.0.1")));
  for (const char* bad : {"10.213.0.0", "10.213.0.0/", "10.213.0.0/x", "10.213.0/24",
                          "1.2.3.4.5/24", "256.0.0.0/24", "10.213.0.0/29", "10.213.0.0/15"}) {
    INFO(bad);
    CHECK_FALSE(Ipv4Subnet::parse(bad).ok());
  }
}

TEST_CASE("a local machine record survives a round trip and refuses to be half", "[unit][local]") {
  MachineRecord r;
  r.machine_id = "k3v9x2qa-web.2";
  r.hostname = "web-2";
  r.address = *parse_ipv4("10.213.0.7");
  r.netns = netns_name("slipway0", r.machine_id);
  r.veth = veth_name(r.netns);
  r.pid = 4242;
  r.start_time = 123456789012ULL;
  auto back = MachineRecord::parse(r.to_text());
  REQUIRE(back.ok());
  CHECK(back->to_text() == r.to_text());
  CHECK_FALSE(MachineRecord::parse("machine_id=x\n").ok());
  CHECK_FALSE(MachineRecord::parse(r.to_text() + "address=10.213.0.999\n").ok());
}

TEST_CASE("local machine names are safe and fit the kernel's limits", "[unit][local]") {
  CHECK(check_machine_id("k3v9x2qa-web.2").ok());
  for (const char* bad : {"", ".hidden", "../x", "a/b", "sp ace"})
    CHECK_FALSE(check_machine_id(bad).ok());
  CHECK_FALSE(check_machine_id(std::string(65, 'a')).ok());
  const std::string ns = netns_name("slipway0", "k3v9x2qa-web.2");
  CHECK(ns == "slw-slipway0.k3v9x2qa-web.2");
  CHECK(ns.rfind(netns_prefix("slipway0"), 0) == 0);
  CHECK(veth_name(ns).size() <= 15);
  CHECK(veth_name(ns) != veth_name(netns_name("slipway0", "k3v9x2qa-web.3")));
  CHECK(mac_for(*parse_ipv4("10.213.0.7")) == "02:53:0a:d5:00:07");
}

TEST_CASE("waiting on pidfds returns when all have exited, at once when there are none",
          "[local]") {
  using namespace std::chrono;
  std::vector<pollfd> none;
  auto started = steady_clock::now();
  CHECK(connectors::wait_exited(none, seconds(5)));
  CHECK(steady_clock::now() - started < seconds(1));

  pid_t quick = ::fork();
  if (quick == 0) ::_exit(0);
  pid_t slow = ::fork();
  if (slow == 0) {
    ::pause();
    ::_exit(0);
  }
  connectors::Fd quick_fd(connectors::pidfd_open(quick));
  connectors::Fd slow_fd(connectors::pidfd_open(slow));
  REQUIRE(quick_fd.fd >= 0);
  REQUIRE(slow_fd.fd >= 0);
  CHECK(connectors::wait_exited(quick_fd.fd, seconds(5)));
  std::vector<pollfd> both{{quick_fd.fd, POLLIN, 0}, {slow_fd.fd, POLLIN, 0}};
  CHECK_FALSE(connectors::wait_exited(both, milliseconds(50)));
  CHECK(connectors::pidfd_kill(slow_fd.fd));
  both = {{quick_fd.fd, POLLIN, 0}, {slow_fd.fd, POLLIN, 0}};
  CHECK(connectors::wait_exited(both, seconds(5)));
  ::waitpid(quick, nullptr, 0);
  ::waitpid(slow, nullptr, 0);
}
