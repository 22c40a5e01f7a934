// The LAMP stack with real packages from Debian: slow (packages come over
// the network), so it runs in the slow suite (scripts/test --slow).
#include <catch2/catch.hpp>

#include "support/deploy_harness.h"

using namespace slipway;
using namespace slipway::test;

TEST_CASE("examples/lamp serves pages that read from the database", "[slow][local]") {
  SKIP_WITHOUT_ROOT();
  DeployHarness h;
  h.start();
  h.push_source("examples/lamp");
  Output out;
  std::string id = h.deploy({"examples/lamp", "--wait"}, &out);
  INFO(out.err);
  REQUIRE(out.status == 0);
  for (const std::string web : {"web.1", "web.2"}) {
    std::string url = h.param(id, web + ":url.service");
    REQUIRE(url.rfind("http://" + h.subnet_prefix(), 0) == 0);
    Output page = run({"/usr/bin/curl", "-fsS", url});
    INFO(web << " " << url << ": " << page.err);
    CHECK(page.status == 0);
    CHECK(page.out.find("<h1>Hello LAMP</h1>") != std::string::npos);
    CHECK(page.out.find("Hello from MariaDB on db-1") != std::string::npos);
    CHECK(page.out.find("served by " + web.substr(0, 3) + "-" + web.substr(4)) !=
          std::string::npos);
  }
  // The generated password reached the web machines and nothing else.
  std::string password = h.param(id, "db.1:password");
  CHECK(password.size() == 24);
  CHECK(h.param(id, "web.2:db_password") == password);
  CHECK(read_text(h.log()).find(password) == std::string::npos);
  // Nothing was installed on the host.
  CHECK(run({"/usr/bin/dpkg-query", "-W", "mariadb-server"}).status != 0);
  CHECK(h.terminate_and_wait(id) == "Done");
  CHECK(h.leftovers_text() == "");
}
