#include "agent/multicall.h"

int main(int argc, char** argv) {
  return slipway::agent::multicall_main(argc, argv);
}
