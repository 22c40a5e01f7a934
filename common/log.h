// Logging to stderr, one line per event: "2026-11-21T10:00:00.123Z info  message".
//
// printf-style so the static agent needs no iostreams. Thread-safe: each line
// is written with a single write(2).
#pragma once

#include <string>

#include "common/status.h"

namespace slipway::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };

void set_level(Level level);
Level level();
bool enabled(Level level);
// Parses "debug", "info", "warn" (or "warning"), "error" or "off"; anything
// else is kInvalidArgument, the sentence naming what is allowed.
Result<Level> parse_level(const std::string& text);

// A short tag put after the level on every line (the program's name).
void set_tag(const char* tag);

void write(Level level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace slipway::log

#define SLIPWAY_LOG_AT_(lvl, ...)                                              \
  do {                                                                         \
    if (::slipway::log::enabled(lvl)) ::slipway::log::write(lvl, __VA_ARGS__); \
  } while (false)
#define LOG_DEBUG(...) SLIPWAY_LOG_AT_(::slipway::log::Level::kDebug, __VA_ARGS__)
#define LOG_INFO(...) SLIPWAY_LOG_AT_(::slipway::log::Level::kInfo, __VA_ARGS__)
#define LOG_WARN(...) SLIPWAY_LOG_AT_(::slipway::log::Level::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) SLIPWAY_LOG_AT_(::slipway::log::Level::kError, __VA_ARGS__)
