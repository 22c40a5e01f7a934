// The table the multi-call binary dispatches on.
#include "agent/ss/ss_command.h"

namespace slipway::agent::ss {

Main find_command(const std::string& name) {
  static const struct {
    const char* name;
    Main main;
  } kCommands[] = {{"ss-get", get_main},         {"ss-set", set_main},
                   {"ss-get-all", get_all_main}, {"ss-display", display_main},
                   {"ss-abort", abort_main},     {"ss-random", random_main},
                   {"ss-barrier", barrier_main}};
  for (const auto& command : kCommands) {
    if (name == command.name) return command.main;
  }
  return nullptr;
}

}  // namespace slipway::agent::ss
