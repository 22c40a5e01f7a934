#include "controller/cli.h"

int main(int argc, char** argv) {
  return slipway::controller::slipwayd_main(argc, argv);
}
