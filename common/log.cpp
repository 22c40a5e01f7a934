#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace slipway::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<const char*> g_tag{""};

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info ";
    case Level::kWarn:
      return "warn ";
    case Level::kError:
      return "error";
    case Level::kOff:
      break;
  }
  return "?    ";
}

}  // namespace

void set_level(Level level) {
  g_level.store(level);
}
Level level() {
  return g_level.load();
}
bool enabled(Level lvl) {
  return lvl != Level::kOff && lvl >= g_level.load();
}
void set_tag(const char* tag) {
  g_tag.store(tag);
}

Result<Level> parse_level(const std::string& text) {
  static const struct {
    const char* name;
    Level level;
  } kNames[] = {{"debug", Level::kDebug},  {"info", Level::kInfo},   {"warn", Level::kWarn},
                {"warning", Level::kWarn}, {"error", Level::kError}, {"off", Level::kOff}};
  for (const auto& entry : kNames) {
    if (text == entry.name) return entry.level;
  }
  return Error(Code::kInvalidArgument,
               "log level must be debug, info, warn, error or off, not \"" + text + "\"");
}

void write(Level lvl, const char* format, ...) {
  char line[4096];
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  int n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s%s",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                        utc.tm_sec, now.tv_nsec / 1000000, level_name(lvl), g_tag.load(),
                        *g_tag.load() ? ": " : "");
  if (n < 0) return;
  va_list args;
  va_start(args, format);
  int m = std::vsnprintf(line + n, sizeof line - n, format, args);
  va_end(args);
  size_t len = n + (m < 0 ? 0 : static_cast<size_t>(m));
  if (len > sizeof line - 2) len = sizeof line - 2;
  // A message may not forge further log lines.
  for (size_t i = n; i < len; ++i) {
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  }
  line[len++] = '\n';
  ssize_t ignored = ::write(STDERR_FILENO, line, len);
  (void)ignored;
}

}  // namespace slipway::log
