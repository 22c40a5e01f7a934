// slipway deploy, list, show, wait, abort, terminate
#include <unistd.h>

#include <cstdio>

#include "cli/app.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "controller/control/control_protocol.h"

namespace slipway::cli {

namespace cp = control_protocol;

namespace {

// Splits "KEY=VALUE" (for --node-cloud and --multiplicity).
bool split_pair(const std::string& text, std::string* key, std::string* value) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) return false;
  *key = text.substr(0, eq);
  *value = text.substr(eq + 1);
  return true;
}

}  // namespace

int watch(Session& session, const std::string& id, const std::string& state, int64_t timeout_s,
          bool progress) {
  ProgressPrinter printer(stderr);
  Value request = cp::encode(cp::WatchRequest{id, state, timeout_s});
  auto result = session.call(request, [&](const Value& snapshot) {
    if (progress) printer.update(snapshot);
    if (session.json) std::printf("%s\n", snapshot.to_json().c_str());
  });
  if (!result.ok()) return session.fail(result.error());
  const Value& end = *result;
  if (end["aborted"].as_bool()) {
    std::fprintf(stderr, "slipway: deployment %s aborted: %s\n", id.c_str(),
                 end["abort_reason"].str().c_str());
    return 8;
  }
  if (end["state"].str() == "Cancelled" ||
      (end["terminate_requested"].as_bool() && !end["reached_ready"].as_bool())) {
    std::fprintf(stderr, "slipway: deployment %s was terminated before it was ready\n", id.c_str());
    return 1;
  }
  return 0;
}

void add_deploy_commands(CLI::App& app, Session& session, Outcome& outcome) {
  struct DeployArgs {
    std::string module, cloud, keep_running;
    std::vector<std::string> node_clouds, parameters, multiplicities;
    int64_t timeout_s = 0;
    bool wait = false;
  };
  auto a = std::make_shared<DeployArgs>();
  auto* deploy = app.add_subcommand("deploy", "deploy a deployment (or one image); prints its id");
  deploy->add_option("module", a->module, "NAME or NAME@VERSION")->required();
  deploy->add_option("--cloud", a->cloud, "the cloud for nodes that name none");
  deploy->add_option("--node-cloud", a->node_clouds, "NODE=CLOUD: put a node on another cloud");
  deploy->add_option("-p,--parameter", a->parameters, "NODE:KEY=VALUE: an input's value");
  deploy->add_option("--multiplicity", a->multiplicities, "NODE=N: instances of a node");
  deploy->add_option("--keep-running", a->keep_running,
                     "always, on-success (default), on-error, never");
  deploy->add_option("--timeout", a->timeout_s, "seconds a state may last (default 3600)");
  deploy->add_flag("--wait", a->wait, "wait until Ready, showing progress on stderr");
  deploy->callback([&session, &outcome, a] {
    cp::DeployRequest request;
    request.module = a->module;
    request.cloud = a->cloud;
    request.keep_running = a->keep_running;
    request.timeout_s = a->timeout_s;
    for (const auto& text : a->node_clouds) {
      std::string node, cloud;
      if (!split_pair(text, &node, &cloud)) {
        outcome.status =
            session.fail(Error(Code::kUsage, "--node-cloud " + text + ": write NODE=CLOUD"));
        return;
      }
      request.node_clouds[node] = cloud;
    }
    for (const auto& text : a->multiplicities) {
      std::string node, count;
      if (!split_pair(text, &node, &count) ||
          count.find_first_not_of("0123456789") != std::string::npos || count.size() > 6) {
        outcome.status =
            session.fail(Error(Code::kUsage, "--multiplicity " + text + ": write NODE=N"));
        return;
      }
      request.multiplicities[node] = static_cast<int64_t>(std::stoll(count));
    }
    request.parameters = a->parameters;
    auto result = session.call(cp::encode(request));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    std::string id = (*result)["id"].str();
    if (session.json && !a->wait) return session.print_json(*result);
    if (!session.json) std::printf("%s\n", id.c_str());
    std::fflush(stdout);
    if (a->wait) outcome.status = watch(session, id, "Ready", 0, !session.json);
  });

  auto* list = app.add_subcommand("list", "your deployments");
  list->callback([&session, &outcome] {
    auto result = session.call(cp::request(cp::kList));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    Table table({"ID", "MODULE", "STATE", "AGE", "MACHINES"});
    for (const auto& d : result->items()) {
      std::string state =
          d["state"].str() +
          (d["aborted"].as_bool() && d["state"].str() != "Aborted" ? " (aborted)" : "");
      table.add({d["id"].str(), d["module"].str(), state,
                 human_duration(d["age_s"].as_int() * 1000),
                 std::to_string(d["machines"].as_int())});
    }
    std::fputs(table.render().c_str(), stdout);
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = app.add_subcommand("show", "a deployment: state, instances, recent events");
  show->add_option("id", *show_id, "deployment id")->required();
  show->callback([&session, &outcome, show_id] {
    auto result = session.call(cp::encode(cp::kShow, cp::IdRequest{*show_id}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    const Value& d = *result;
    std::printf("deployment  %s  %s\n", d["id"].str().c_str(), d["module"].str().c_str());
    std::printf("state       %s for %s (keep-running %s)\n", d["state"].str().c_str(),
                human_duration(d["in_state_s"].as_int() * 1000).c_str(),
                d["keep_running"].str().c_str());
    if (d["aborted"].as_bool()) std::printf("aborted     %s\n", d["abort_reason"].str().c_str());
    std::printf("owner       %s, created %s\n\n", d["owner"].str().c_str(),
                local_time(d["created_at"].as_int()).c_str());
    Table instances({"INSTANCE", "CLOUD", "ADDRESS", "STATUS", "VMSTATE", "PHASE", "STATECUSTOM"});
    for (const auto& i : d["instances_detail"].items()) {
      instances.add({i["name"].str(), i["cloud"].str(), i["address"].str(), i["status"].str(),
                     i["vmstate"].str(), i["phase"].str(), i["statecustom"].str()});
    }
    std::fputs(instances.render().c_str(), stdout);
    for (const auto& n : d["nodes"].items()) {
      if (!n["boots_image"].str().empty()) {
        std::printf("%s: boots the built image of %s (build %s): its install steps did not run\n",
                    n["name"].str().c_str(), n["boots_image"].str().c_str(),
                    n["boots_build"].str().c_str());
      }
      if (!n["builds"].str().empty()) {
        std::printf("%s: builds %s (build %s)\n", n["name"].str().c_str(), n["image"].str().c_str(),
                    n["builds"].str().c_str());
      }
    }
    for (const auto& i : d["instances_detail"].items()) {
      if (!i["error"].str().empty())
        std::printf("%s: %s\n", i["name"].str().c_str(), i["error"].str().c_str());
    }
    if (!d["events"].items().empty()) {
      std::printf("\nrecent events\n");
      for (const auto& e : d["events"].items()) {
        std::printf("  %s  %-22s %s\n", clock_time(e["at"].as_int()).c_str(),
                    e["kind"].str().c_str(), e["message"].str().c_str());
      }
    }
  });

  struct WaitArgs {
    std::string id, state = "Ready";
    int64_t timeout_s = 0;
  };
  auto w = std::make_shared<WaitArgs>();
  auto* wait =
      app.add_subcommand("wait", "block until a deployment reaches a state (8 if it aborts)");
  wait->add_option("id", w->id, "deployment id")->required();
  wait->add_option("--state", w->state, "the state to wait for (default Ready)");
  wait->add_option("--timeout", w->timeout_s, "give up after this many seconds (exit 9)");
  wait->callback([&session, &outcome, w] {
    outcome.status = watch(session, w->id, w->state, w->timeout_s, false);
  });

  auto abort_args = std::make_shared<std::vector<std::string>>();
  auto* abort = app.add_subcommand("abort", "raise a deployment's abort flag");
  abort->add_option("args", *abort_args, "ID [REASON...]")->required();
  abort->callback([&session, &outcome, abort_args] {
    std::string reason;
    for (size_t i = 1; i < abort_args->size(); ++i) reason += (i > 1 ? " " : "") + (*abort_args)[i];
    auto result = session.call(cp::encode(cp::AbortRequest{abort_args->front(), reason}));
    if (!result.ok())
      outcome.status = session.fail(result.error());
    else if (session.json)
      session.print_json(*result);
  });

  auto terminate_id = std::make_shared<std::string>();
  auto* terminate = app.add_subcommand("terminate", "end a deployment and remove its machines");
  terminate->add_option("id", *terminate_id, "deployment id")->required();
  terminate->callback([&session, &outcome, terminate_id] {
    auto result = session.call(cp::encode(cp::kTerminate, cp::IdRequest{*terminate_id}));
    if (!result.ok())
      outcome.status = session.fail(result.error());
    else if (session.json)
      session.print_json(*result);
  });
}

}  // namespace slipway::cli
