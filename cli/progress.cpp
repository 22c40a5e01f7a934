#include "cli/progress.h"

#include <cstdio>

namespace slipway::cli {

void ProgressPrinter::update(const Value& s) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "[%6.1fs]", elapsed);
  const std::string& state = s["state"].str();
  if (state != state_) {
    std::fprintf(out_, "%s %s %s\n", stamp, s["id"].str().c_str(), state.c_str());
    state_ = state;
  }
  if (s["aborted"].as_bool() && !aborted_) {
    std::fprintf(out_, "%s %s aborted: %s\n", stamp, s["id"].str().c_str(),
                 s["abort_reason"].str().c_str());
    aborted_ = true;
  }
  for (const auto& i : s["instances_detail"].items()) {
    std::string line = i["status"].str();
    if (!i["phase"].str().empty() && i["phase"].str() != i["status"].str())
      line += "  " + i["phase"].str();
    if (!i["address"].str().empty() && i["status"].str() != "terminated")
      line += "  " + i["address"].str();
    if (!i["statecustom"].str().empty()) line += "  \"" + i["statecustom"].str() + "\"";
    if (!i["error"].str().empty() && i["status"].str() != "running")
      line += "  (" + i["error"].str() + ")";
    std::string& last = instances_[i["name"].str()];
    if (line == last) continue;
    last = line;
    std::fprintf(out_, "%s   %-10s %s\n", stamp, i["name"].str().c_str(), line.c_str());
  }
  std::fflush(out_);
}

}  // namespace slipway::cli
