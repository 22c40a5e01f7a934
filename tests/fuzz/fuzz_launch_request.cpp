// The local machine launcher's command line never crashes its parser: the
// input is split on NUL bytes into argv, as execve would hand it over.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "connectors/local/launcher/launch_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> words{"slipway-local-launch"};
  std::string word;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      words.push_back(word);
      word.clear();
    } else {
      word.push_back(static_cast<char>(data[i]));
    }
  }
  if (!word.empty()) words.push_back(word);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  (void)slipway::connectors::local::launcher::parse_launch_request(static_cast<int>(words.size()),
                                                                   argv.data());
  return 0;
}
