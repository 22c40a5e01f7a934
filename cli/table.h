// Plain-text tables and human-friendly numbers for the CLI's default output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slipway::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // Columns padded to their widest cell, two spaces apart; no trailing blanks.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "3s", "4m12s", "2h05m", "3d04h".
std::string human_duration(int64_t ms);
// "2026-11-21 10:03:04" in local time, from Unix milliseconds.
std::string local_time(int64_t unix_ms);
// "10:03:04" in local time.
std::string clock_time(int64_t unix_ms);

// "12 B", "3.4 KiB", "5.0 MiB".
std::string human_bytes(int64_t bytes);

}  // namespace slipway::cli
