// slipway params, get, set: runtime parameters from outside.
#include <unistd.h>

#include <cstdio>

#include "cli/app.h"
#include "cli/table.h"
#include "controller/control/control_protocol.h"

namespace slipway::cli {

namespace cp = control_protocol;

namespace {
// Standard input, with one trailing newline removed (as $(cat) would).
std::string read_stdin() {
  std::string data;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  if (!data.empty() && data.back() == '\n') data.pop_back();
  return data;
}
}  // namespace

void add_param_commands(CLI::App& app, Session& session, Outcome& outcome) {
  struct ParamsArgs {
    std::string id, glob = "*";
  };
  auto p = std::make_shared<ParamsArgs>();
  auto* params = app.add_subcommand("params", "a deployment's runtime parameters");
  params->add_option("id", p->id, "deployment id")->required();
  params->add_option("glob", p->glob, "only keys matching this pattern, e.g. 'web.*:url*'");
  params->callback([&session, &outcome, p] {
    auto result = session.call(cp::encode(cp::ParamsRequest{p->id, p->glob}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    Table table({"KEY", "VALUE"});
    for (const auto& kv : result->items()) {
      std::string value = kv["value"].is_null() ? "(not set)" : kv["value"].str();
      if (value.find('\n') != std::string::npos) value = value.substr(0, value.find('\n')) + " ...";
      table.add({kv["key"].str(), value});
    }
    std::fputs(table.render().c_str(), stdout);
  });

  struct GetArgs {
    std::string id, key;
    int64_t timeout_s = 60;
  };
  auto g = std::make_shared<GetArgs>();
  auto* get = app.add_subcommand("get", "print a parameter, waiting until it is set");
  get->add_option("id", g->id, "deployment id")->required();
  get->add_option("key", g->key, "NODE:KEY or NODE.N:KEY")->required();
  get->add_option("--timeout", g->timeout_s, "seconds to wait (default 60, 0 forever)");
  get->callback([&session, &outcome, g] {
    if (g->timeout_s < 0) {
      outcome.status = session.fail(Error(Code::kUsage, "--timeout must be 0 or more seconds"));
      return;
    }
    auto result = session.call(cp::encode(cp::GetRequest{g->id, g->key, g->timeout_s}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    std::printf("%s\n", (*result)["value"].str().c_str());
  });

  struct SetArgs {
    std::string id, key, value;
  };
  auto s = std::make_shared<SetArgs>();
  auto* set =
      app.add_subcommand("set", "set an instance's parameter (VALUE - reads standard input)");
  set->add_option("id", s->id, "deployment id")->required();
  set->add_option("key", s->key, "NODE.N:KEY")->required();
  set->add_option("value", s->value, "the value, or - for standard input")->required();
  set->callback([&session, &outcome, s] {
    std::string value = s->value == "-" ? read_stdin() : s->value;
    auto result = session.call(cp::encode(cp::SetRequest{s->id, s->key, value}));
    if (!result.ok())
      outcome.status = session.fail(result.error());
    else if (session.json)
      session.print_json(*result);
  });
}

}  // namespace slipway::cli
