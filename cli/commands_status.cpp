// slipway status; slipway agent add|revoke|list.
#include <cstdio>

#include "cli/app.h"
#include "cli/table.h"
#include "common/fs.h"
#include "controller/control/control_protocol.h"

namespace slipway::cli {

namespace cp = control_protocol;

namespace {

int print_status(Session& session) {
  auto result = session.call(cp::request(cp::kStatus));
  if (!result.ok()) return session.fail(result.error());
  const Value& s = *result;
  if (session.json) {
    session.print_json(s);
    return 0;
  }
  std::printf("slipwayd %s, up %s, pid %lld\n", s["version"].str().c_str(),
              human_duration(s["uptime_s"].as_int() * 1000).c_str(),
              static_cast<long long>(s["pid"].as_int()));
  std::printf("data          %s\n", s["data_dir"].str().c_str());
  const int64_t connected = s["agents_connected"].as_int();
  const int64_t connections = s["agent_connections"].as_int();
  std::printf("agents        %lld connected%s, listening on %s\n",
              static_cast<long long>(connected),
              connections == connected
                  ? ""
                  : (" (" + std::to_string(connections) + " connections open)").c_str(),
              s["agent_endpoint"].str().c_str());
  std::string deployments;
  for (const auto& [state, count] : s["deployments"].fields()) {
    deployments += (deployments.empty() ? "" : ", ") + std::to_string(count.as_int()) + " " + state;
  }
  std::printf("deployments   %s\n", deployments.empty() ? "none" : deployments.c_str());
  if (int64_t failures = s["store_failures"].as_int(); failures > 0) {
    std::printf(
        "store         %lld of the controller's own writes failed since it started "
        "(its log names each)\n",
        static_cast<long long>(failures));
  }
  std::string clouds;
  for (const auto& cloud : s["clouds"].items()) {
    std::string state = cloud["state"].str();
    clouds +=
        (clouds.empty() ? "" : ", ") + cloud["name"].str() +
        (cloud["name"].str() != cloud["connector"].str() ? " (" + cloud["connector"].str() + ")"
                                                         : "") +
        (cloud["default"].as_bool() ? " [default]" : "") +
        (state.empty() || state == "ready" ? "" : " " + state);
  }
  std::printf("clouds        %s\n", clouds.c_str());
  if (s["images"].has("bytes")) {
    std::printf("images        %s of built images in %s\n",
                human_bytes(s["images"]["bytes"].as_int()).c_str(),
                s["images"]["dir"].str().c_str());
  }
  if (!s["agents"].items().empty()) {
    Table table({"AGENT", "STATE", "ADDRESS", "VERSION", "LAST SEEN"});
    for (const auto& a : s["agents"].items()) {
      table.add({a["name"].str(), a["state"].str(), a["address"].str(), a["version"].str(),
                 human_duration(a["last_seen_ms_ago"].as_int()) + " ago"});
    }
    std::printf("\n%s", table.render().c_str());
  }
  return 0;
}

}  // namespace

void add_status_commands(CLI::App& app, Session& session, Outcome& outcome) {
  auto* status = app.add_subcommand(
      "status", "how the controller is: version, uptime, agents, deployments, clouds");
  status->callback([&] { outcome.status = print_status(session); });
}

void add_agent_commands(CLI::App& app, Session& session, Outcome& outcome) {
  auto* agent = app.add_subcommand("agent", "agents registered by hand (admins)");
  agent->require_subcommand(1);

  struct AddArgs {
    std::string name, host = "127.0.0.1", output;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = agent->add_subcommand("add", "register an agent and write its contextualization");
  add->add_option("name", add_args->name, "the agent's name")->required();
  add->add_option("--host", add_args->host, "the address the agent reaches the controller on")
      ->capture_default_str();
  add->add_option("-o,--output", add_args->output, "write the contextualization here (mode 0600)");
  add->callback([&session, &outcome, add_args] {
    auto result = session.call(cp::encode(cp::AgentAddRequest{add_args->name, add_args->host}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    std::string context = (*result)["context"].str();
    if (!add_args->output.empty()) {
      Status written = fs::write_file_atomic(add_args->output, context, 0600);
      if (!written.ok()) {
        outcome.status = session.fail(written.error());
        return;
      }
    }
    if (session.json) {
      Value shown = *result;
      if (!add_args->output.empty()) shown.set("context", add_args->output);
      session.print_json(shown);
    } else if (add_args->output.empty()) {
      std::fputs(context.c_str(), stdout);
    } else {
      std::printf("%s registered; contextualization in %s\n", add_args->name.c_str(),
                  add_args->output.c_str());
    }
  });

  auto revoke_name = std::make_shared<std::string>();
  auto* revoke = agent->add_subcommand("revoke", "revoke an agent's key; it is dropped at once");
  revoke->add_option("name", *revoke_name, "the agent's name")->required();
  revoke->callback([&session, &outcome, revoke_name] {
    auto result = session.call(cp::encode(cp::kAgentRevoke, cp::NameRequest{*revoke_name}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json)
      session.print_json(*result);
    else
      std::printf("%s revoked\n", revoke_name->c_str());
  });

  auto* list = agent->add_subcommand("list", "agents registered by hand");
  list->callback([&session, &outcome] {
    auto result = session.call(cp::request(cp::kAgentList));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) {
      session.print_json(*result);
      return;
    }
    Table table({"NAME", "STATE", "PUBLIC KEY"});
    for (const auto& a : result->items()) {
      table.add({a["name"].str(), a["state"].str(), a["public_key"].str()});
    }
    std::fputs(table.render().c_str(), stdout);
  });
}

}  // namespace slipway::cli
