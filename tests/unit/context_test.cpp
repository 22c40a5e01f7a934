#include "common/context.h"

#include <catch2/catch.hpp>

#include "common/crypto.h"

using namespace slipway;

namespace {
Contextualization sample() {
  auto server = crypto::generate_keypair();
  auto agent = crypto::generate_keypair();
  return Contextualization{"tcp://10.213.0.1:7740", server->public_key, agent->public_key,
                           agent->secret_key,       "k3v9x2qa",         "web.2"};
}
}  // namespace

TEST_CASE("contextualization survives its text, kernel and user-data forms", "[context]") {
  Contextualization c = sample();
  for (auto parsed :
       {Contextualization::parse(c.to_text()),
        Contextualization::parse_kernel_args("console=ttyS0 " + c.to_kernel_args() + " quiet\n"),
        Contextualization::parse_user_data(c.to_user_data())}) {
    REQUIRE(parsed.ok());
    CHECK(parsed->endpoint == c.endpoint);
    CHECK(parsed->server_key == c.server_key);
    CHECK(parsed->public_key == c.public_key);
    CHECK(parsed->secret_key == c.secret_key);
    CHECK(parsed->deployment == c.deployment);
    CHECK(parsed->instance == c.instance);
  }
}

TEST_CASE("a machine on the controller's host may be given its Unix socket", "[context]") {
  Contextualization c = sample();
  c.endpoint = "ipc:///run/slipway-controller/agent.sock";
  for (auto parsed : {Contextualization::parse(c.to_text()),
                      Contextualization::parse_kernel_args(c.to_kernel_args())}) {
    REQUIRE(parsed.ok());
    CHECK(parsed->endpoint == c.endpoint);
  }
  CHECK(ipc_path(c.endpoint) == "/run/slipway-controller/agent.sock");
  // A path a socket cannot have, or that would not survive a kernel command line.
  for (const std::string& bad :
       {std::string("ipc://relative.sock"), std::string("ipc://"),
        "ipc:///" + std::string(107, 'a'), std::string("ipc:///a b"), std::string("ipc:///a\tb")}) {
    INFO(bad);
    CHECK_FALSE(ipc_path(bad).has_value());
    c.endpoint = bad;
    CHECK(Contextualization::parse(c.to_text()).error().message().find("endpoint") !=
          std::string::npos);
  }
  CHECK(ipc_path("ipc:///" + std::string(106, 'a')).has_value());  // 107 bytes: the most there is
}

TEST_CASE("bad contextualization is refused with the field named", "[context]") {
  Contextualization c = sample();
  c.endpoint = "udp://1.2.3.4:5";
  CHECK(Contextualization::parse(c.to_text()).error().message().find("endpoint") !=
        std::string::npos);
  c = sample();
  c.server_key = "nope";
  CHECK(Contextualization::parse(c.to_text()).error().message().find("server-key") !=
        std::string::npos);
  c = sample();
  c.instance = "web 2; rm -rf /";
  CHECK(Contextualization::parse(c.to_text()).error().message().find("instance") !=
        std::string::npos);
  CHECK_FALSE(Contextualization::parse("").ok());
  CHECK(Contextualization::parse_kernel_args("root=/dev/vda quiet").error().code() ==
        Code::kNotFound);
  CHECK(Contextualization::parse_user_data("#cloud-config\n").error().code() == Code::kNotFound);
}
