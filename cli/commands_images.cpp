// slipway image build|list|rm: the image factory (docs/images.md)
#include <cstdio>

#include "cli/app.h"
#include "cli/table.h"
#include "controller/control/control_protocol.h"

namespace slipway::cli {

namespace cp = control_protocol;

namespace {

// Builds take from a tenth of a second to many minutes.
std::string build_time(int64_t ms) {
  if (ms <= 0) return "-";
  if (ms >= 10000) return human_duration(ms);
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(ms) / 1000);
  return text;
}

}  // namespace

void add_image_commands(CLI::App& app, Session& session, Outcome& outcome) {
  auto* image = app.add_subcommand("image", "the image factory: build images once, deploy them");
  image->require_subcommand(1);

  struct BuildArgs {
    std::string module, cloud;
    bool wait = false;
  };
  auto b = std::make_shared<BuildArgs>();
  auto* build = image->add_subcommand(
      "build", "build an image on a cloud: run its install steps once and snapshot the machine; "
               "prints the build's deployment id");
  build->add_option("module", b->module, "NAME or NAME@VERSION of a derived image")->required();
  build->add_option("--cloud", b->cloud, "the cloud to build for (default: the default cloud)");
  build->add_flag("--wait", b->wait, "wait until the image is built, showing progress on stderr");
  build->callback([&session, &outcome, b] {
    auto result =
        session.call(cp::encode(cp::ImageRequest{std::string(cp::kImageBuild), b->module, b->cloud}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    const std::string id = (*result)["id"].str();
    if (session.json && !b->wait) return session.print_json(*result);
    if (!session.json) std::printf("%s\n", id.c_str());
    std::fflush(stdout);
    if (!b->wait) return;
    if (!(*result)["base"].str().empty()) {
      std::fprintf(stderr, "slipway: building %s on %s from the build of %s\n",
                   (*result)["image"].str().c_str(), (*result)["cloud"].str().c_str(),
                   (*result)["base"].str().c_str());
    }
    // A build's run ends in Done once its machine is an image.
    outcome.status = watch(session, id, "Done", 0, !session.json);
    if (outcome.status == 0 && !session.json) {
      std::fprintf(stderr, "slipway: %s is built on %s\n", (*result)["image"].str().c_str(),
                   (*result)["cloud"].str().c_str());
    }
  });

  auto list_name = std::make_shared<std::string>();
  auto* list = image->add_subcommand("list", "built images: state, size, age, build time");
  list->add_option("name", *list_name, "only the builds of this image");
  list->callback([&session, &outcome, list_name] {
    auto result =
        session.call(cp::encode(cp::ImageRequest{std::string(cp::kImageList), *list_name, ""}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    if (result->items().empty()) {
      std::printf("no built images%s\n", list_name->empty() ? "" : (" of " + *list_name).c_str());
      return;
    }
    Table table({"IMAGE", "CLOUD", "STATE", "SIZE", "BUILT", "BUILD TIME", "ID"});
    for (const auto& i : result->items()) {
      const int64_t at = i["finished_at"].as_int() > 0 ? i["finished_at"].as_int()
                                                        : i["created_at"].as_int();
      table.add({i["image"].str(), i["cloud"].str(), i["state"].str(),
                 i["state"].str() == "ready" || i["state"].str() == "stale"
                     ? human_bytes(i["size_bytes"].as_int())
                     : "-",
                 local_time(at),
                 build_time(i["build_ms"].as_int()),
                 i["id"].str()});
    }
    std::fputs(table.render().c_str(), stdout);
    for (const auto& i : result->items()) {
      if (!i["error"].str().empty()) {
        std::printf("%s on %s failed: %s\n", i["image"].str().c_str(), i["cloud"].str().c_str(),
                    i["error"].str().c_str());
      }
    }
  });

  struct RmArgs {
    std::string name, cloud;
  };
  auto r = std::make_shared<RmArgs>();
  auto* rm = image->add_subcommand("rm", "remove an image's builds and their files");
  rm->add_option("name", r->name, "the image")->required();
  rm->add_option("--cloud", r->cloud, "only its build on this cloud");
  rm->callback([&session, &outcome, r] {
    auto result =
        session.call(cp::encode(cp::ImageRequest{std::string(cp::kImageRm), r->name, r->cloud}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    std::printf("removed %zu build(s), %s freed\n", (*result)["removed"].items().size(),
                human_bytes((*result)["freed_bytes"].as_int()).c_str());
  });
}

}  // namespace slipway::cli
