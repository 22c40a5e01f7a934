#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "common/log.h"

int main(int argc, char* argv[]) {
  // What the code under test logs is not what the tests check.
  slipway::log::set_level(slipway::log::Level::kOff);
  return Catch::Session().run(argc, argv);
}
