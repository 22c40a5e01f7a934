#include "connectors/process/process_tree.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "common/fs.h"

namespace slipway::connectors {
namespace {

// State and parent from /proc/PID/stat: "PID (comm) S PPID ...". The command
// name may hold spaces and parentheses, so parse after the last ')'.
bool read_stat(pid_t pid, char* state, pid_t* parent) {
  auto text = fs::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text.ok()) return false;
  size_t close = text->rfind(')');
  if (close == std::string::npos || close + 4 > text->size()) return false;
  *state = (*text)[close + 2];
  *parent = static_cast<pid_t>(std::atol(text->c_str() + close + 4));
  return true;
}

}  // namespace

std::string process_cmdline(pid_t pid) {
  auto text = fs::read_file("/proc/" + std::to_string(pid) + "/cmdline", 64 << 10);
  if (!text.ok()) return "";
  for (char& c : *text) {
    if (c == '\0') c = ' ';
  }
  return *text;
}

bool process_alive(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  return read_stat(pid, &state, &parent) && state != 'Z' && state != 'X';
}

std::vector<pid_t> process_descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* entry = ::readdir(proc)) {
      pid_t pid = static_cast<pid_t>(std::atol(entry->d_name));
      char state;
      pid_t parent;
      if (pid > 0 && read_stat(pid, &state, &parent)) children.emplace(parent, pid);
    }
    ::closedir(proc);
  }
  std::vector<pid_t> out;
  std::vector<pid_t> frontier = {root};
  while (!frontier.empty()) {
    std::vector<pid_t> next;
    for (pid_t p : frontier) {
      auto range = children.equal_range(p);
      for (auto it = range.first; it != range.second; ++it) {
        out.push_back(it->second);
        next.push_back(it->second);
      }
    }
    frontier = std::move(next);
  }
  return out;
}

void kill_tree(pid_t pid, std::chrono::milliseconds grace) {
  auto signal_all = [&](int sig) {
    std::vector<pid_t> all = process_descendants(pid);
    all.insert(all.begin(), pid);
    bool any = false;
    for (pid_t p : all) {
      if (process_alive(p)) {
        ::kill(p, sig);
        any = true;
      }
    }
    ::waitpid(pid, nullptr, WNOHANG);
    return any;
  };
  auto deadline = std::chrono::steady_clock::now() + grace;
  signal_all(SIGTERM);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::waitpid(pid, nullptr, WNOHANG);
    if (!process_alive(pid) && process_descendants(pid).empty()) break;
  }
  for (int round = 0; round < 50 && signal_all(SIGKILL); ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // When `pid` is our child, collect it, so no zombie stays behind (a
  // process that is not ours answers ECHILD at once).
  for (int round = 0; round < 50 && ::waitpid(pid, nullptr, WNOHANG) == 0; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace slipway::connectors
