// slipway logs, reports, events
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "cli/app.h"
#include "cli/table.h"
#include "common/fs.h"
#include "controller/control/control_protocol.h"

namespace slipway::cli {

namespace cp = control_protocol;

namespace {

// Prints script output line by line, each prefixed by instance and step,
// keeping partial lines until they end.
class LogPrinter {
 public:
  void add(const Value& chunk) {
    std::string prefix = "[" + chunk["instance"].str() + " " +
                         chunk["step"].str().substr(0, chunk["step"].str().find(':')) +
                         (chunk["stream"].str() == "stderr" ? "!" : "") + "] ";
    std::string& pending = partial_[prefix];
    pending += chunk["data"].str();
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::printf("%s%s\n", prefix.c_str(), pending.substr(start, nl - start).c_str());
    }
    pending.erase(0, start);
    std::fflush(stdout);
  }
  void flush() {
    for (const auto& [prefix, rest] : partial_) {
      if (!rest.empty()) std::printf("%s%s\n", prefix.c_str(), rest.c_str());
    }
    partial_.clear();
  }

 private:
  std::map<std::string, std::string> partial_;
};

bool safe_relative(const std::string& name) {
  if (name.empty() || name[0] == '/') return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string seg = name.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

void add_log_commands(CLI::App& app, Session& session, Outcome& outcome) {
  struct LogsArgs {
    std::string id, instance;
    bool follow = false;
    bool console = false;
  };
  auto l = std::make_shared<LogsArgs>();
  auto* logs = app.add_subcommand("logs", "the output of every script; live with -f");
  logs->add_option("id", l->id, "deployment id")->required();
  logs->add_option("instance", l->instance, "only this instance (web.2)");
  logs->add_flag("-f,--follow", l->follow, "keep printing as scripts run");
  logs->add_flag("--console", l->console,
                 "the machine's console instead (its boot, then the agent's log)");
  logs->callback([&session, &outcome, l] {
    if (l->console) {
      if (l->instance.empty() || l->follow) {
        outcome.status =
            session.fail(Error(Code::kUsage,
                               "--console shows one machine's console: name its instance, "
                               "without -f"));
        return;
      }
      auto console = session.call(cp::encode(cp::ConsoleRequest{l->id, l->instance}));
      if (!console.ok()) {
        outcome.status = session.fail(console.error());
        return;
      }
      if (session.json) return session.print_json(*console);
      std::fwrite((*console)["console"].str().data(), 1, (*console)["console"].str().size(),
                  stdout);
      return;
    }
    LogPrinter printer;
    auto result = session.call(cp::encode(cp::LogsRequest{l->id, l->instance, l->follow}),
                               [&](const Value& chunk) {
                                 if (session.json)
                                   std::printf("%s\n", chunk.to_json().c_str());
                                 else
                                   printer.add(chunk);
                               });
    printer.flush();
    if (!result.ok()) outcome.status = session.fail(result.error());
  });

  struct ReportsArgs {
    std::string id, dir;
  };
  auto r = std::make_shared<ReportsArgs>();
  auto* reports = app.add_subcommand("reports", "download a deployment's reports");
  reports->add_option("id", r->id, "deployment id")->required();
  reports->add_option("-o,--output", r->dir, "directory to write them to (default reports-ID)");
  reports->callback([&session, &outcome, r] {
    std::string dir = r->dir.empty() ? "reports-" + r->id : r->dir;
    // Chunks arrive in order, each file's by offset; each is written where
    // it belongs as it comes, so a report of any size never sits in memory.
    struct File {
      int fd = -1;
      int64_t bytes = 0;
      bool complete = false;
    };
    std::map<std::string, File> files;  // by path, in path order
    Status failed = ok_status();
    auto write_piece = [&](const Value& piece) {
      std::string instance = piece["instance"].str();
      std::string name = piece["name"].str();
      if (!failed.ok() || !safe_relative(instance) || !safe_relative(name)) return;
      std::string path = dir + "/" + instance + "/" + name;
      File& file = files[path];
      int64_t offset = piece["offset"].as_int();
      if (file.fd < 0 || offset == 0) {
        if (file.fd >= 0) ::close(file.fd);
        Status made = fs::make_dirs(fs::dirname(path), 0755);
        if (!made.ok()) {
          failed = made;
          return;
        }
        file.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (file.fd < 0) {
          failed = Error(Code::kUnavailable, "cannot write " + path + ": " + std::strerror(errno));
          return;
        }
      }
      const std::string& data = piece["data"].str();
      if (::pwrite(file.fd, data.data(), data.size(), offset) !=
          static_cast<ssize_t>(data.size())) {
        failed = Error(Code::kUnavailable, "cannot write " + path + ": " + std::strerror(errno));
        return;
      }
      file.bytes = std::max<int64_t>(file.bytes, offset + static_cast<int64_t>(data.size()));
      file.complete = piece["last"].as_bool();
    };
    auto result = session.call(cp::encode(cp::kReports, cp::IdRequest{r->id}), write_piece);
    for (auto& [path, file] : files) {
      if (file.fd >= 0) ::close(file.fd);
    }
    if (!result.ok() || !failed.ok()) {
      outcome.status = session.fail(result.ok() ? failed.error() : result.error());
      return;
    }
    Value written = Value::array();
    for (const auto& [path, file] : files) {
      written.push(Value::object()
                       .set("path", path)
                       .set("bytes", file.bytes)
                       .set("complete", file.complete));
    }
    if (session.json) return session.print_json(written);
    for (const auto& w : written.items()) {
      std::printf("%s (%s)%s\n", w["path"].str().c_str(), human_bytes(w["bytes"].as_int()).c_str(),
                  w["complete"].as_bool() ? "" : " incomplete");
    }
    if (written.items().empty())
      std::fprintf(stderr, "slipway: deployment %s has no reports yet\n", r->id.c_str());
  });

  auto follow = std::make_shared<bool>(false);
  auto* events = app.add_subcommand("events", "the controller's event stream");
  events->add_flag("-f,--follow", *follow, "keep printing new events");
  events->callback([&session, &outcome, follow] {
    auto print = [&](const Value& e) {
      if (session.json) {
        std::printf("%s\n", e.to_json().c_str());
      } else {
        std::printf("%s  %-9s %-24s %s\n", local_time(e["at"].as_int()).c_str(),
                    e["deployment"].str().c_str(), e["kind"].str().c_str(),
                    e["message"].str().c_str());
      }
      std::fflush(stdout);
    };
    auto result = session.call(cp::encode(cp::EventsRequest{*follow}), print);
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    for (const auto& e : result->items()) print(e);
  });
}

}  // namespace slipway::cli
