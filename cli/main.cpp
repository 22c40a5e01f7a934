#include <cstdio>
#include <exception>

#include "cli/app.h"

int main(int argc, char** argv) {
  try {
    return slipway::cli::slipway_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slipway: internal error: %s\n", e.what());
    return 1;
  }
}
