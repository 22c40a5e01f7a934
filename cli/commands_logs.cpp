// slipway logs, reports, events
#include <cstdio>
#include <map>

#include "cli/app.h"
#include "cli/table.h"
#include "common/fs.h"

namespace slipway::cli {
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
  };
  auto l = std::make_shared<LogsArgs>();
  auto* logs = app.add_subcommand("logs", "the output of every script; live with -f");
  logs->add_option("id", l->id, "deployment id")->required();
  logs->add_option("instance", l->instance, "only this instance (web.2)");
  logs->add_flag("-f,--follow", l->follow, "keep printing as scripts run");
  logs->callback([&session, &outcome, l] {
    LogPrinter printer;
    auto result = session.call(Value::object()
                                   .set("op", "logs")
                                   .set("id", l->id)
                                   .set("instance", l->instance)
                                   .set("follow", l->follow),
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
    auto result = session.call(Value::object().set("op", "reports").set("id", r->id));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    std::string dir = r->dir.empty() ? "reports-" + r->id : r->dir;
    Value written = Value::array();
    for (const auto& f : result->items()) {
      std::string instance = f["instance"].str();
      std::string name = f["name"].str();
      if (!safe_relative(instance) || !safe_relative(name)) continue;
      std::string path = dir + "/" + instance + "/" + name;
      Status made = fs::make_dirs(fs::dirname(path), 0755);
      if (made.ok()) made = fs::write_file_atomic(path, f["data"].str(), 0644);
      if (!made.ok()) {
        outcome.status = session.fail(made.error());
        return;
      }
      written.push(Value::object()
                       .set("path", path)
                       .set("bytes", static_cast<int64_t>(f["data"].str().size()))
                       .set("complete", f["complete"]));
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
    auto result = session.call(Value::object().set("op", "events").set("follow", *follow), print);
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    for (const auto& e : result->items()) print(e);
  });
}

}  // namespace slipway::cli
