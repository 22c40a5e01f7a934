// slipway module push|list|show|versions|rm|share
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "cli/app.h"
#include "cli/table.h"
#include "common/fs.h"
#include "controller/control/control_protocol.h"

namespace slipway::cli {

namespace cp = control_protocol;

namespace {

bool is_yaml(const std::string& name) {
  auto ends = [&](const char* suffix) {
    std::string s(suffix);
    return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".yaml") || ends(".yml");
}

// Files to push: each FILE, and every *.yaml / *.yml under each DIR.
Status collect(const std::string& path, std::vector<std::string>* out, int depth = 0) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error(Code::kNotFound, "no file or directory " + path);
  if (!S_ISDIR(st.st_mode)) {
    out->push_back(path);
    return ok_status();
  }
  if (depth > 16) return Error(Code::kInvalidArgument, path + " is nested too deep");
  SLIPWAY_ASSIGN_OR_RETURN(auto names, fs::list_dir(path));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string child = path + "/" + name;
    struct stat cs {};
    if (::stat(child.c_str(), &cs) != 0) continue;
    if (S_ISDIR(cs.st_mode))
      SLIPWAY_RETURN_IF_ERROR(collect(child, out, depth + 1));
    else if (is_yaml(name))
      out->push_back(child);
  }
  return ok_status();
}

std::string visibility_text(const Value& m) {
  std::string v = m["visibility"].str();
  return v == "group" ? "group " + m["group"].str() : v;
}

}  // namespace

void add_module_commands(CLI::App& app, Session& session, Outcome& outcome) {
  auto* module = app.add_subcommand("module", "the catalog of images and deployments");
  module->require_subcommand(1);

  auto paths = std::make_shared<std::vector<std::string>>();
  auto* push =
      module->add_subcommand("push", "check and store modules; prints NAME@VERSION for each");
  push->add_option("paths", *paths, "module files, or directories of *.yaml files")->required();
  push->callback([&session, &outcome, paths] {
    std::vector<std::string> files;
    for (const auto& p : *paths) {
      Status found = collect(p, &files);
      if (!found.ok()) {
        outcome.status = session.fail(found.error());
        return;
      }
    }
    if (files.empty()) {
      outcome.status = session.fail(Error(Code::kUsage, "no *.yaml files in " + paths->front()));
      return;
    }
    cp::PushRequest request;
    for (const auto& f : files) {
      auto content = fs::read_file(f, 1 << 20);
      if (!content.ok()) {
        outcome.status = session.fail(content.error());
        return;
      }
      request.files.push_back({f, *content});
    }
    auto result = session.call(cp::encode(request));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    for (const auto& m : result->items()) {
      std::printf("%s@%lld%s\n", m["name"].str().c_str(),
                  static_cast<long long>(m["version"].as_int()),
                  m["created"].as_bool() ? "" : " (unchanged)");
    }
  });

  auto* list = module->add_subcommand("list", "the modules you may see");
  list->callback([&session, &outcome] {
    auto result = session.call(cp::request(cp::kModuleList));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    Table table({"NAME", "VERSION", "KIND", "OWNER", "SHARED", "DESCRIPTION"});
    for (const auto& m : result->items()) {
      table.add({m["name"].str(), std::to_string(m["version"].as_int()), m["kind"].str(),
                 m["owner"].str(), visibility_text(m), m["description"].str()});
    }
    std::fputs(table.render().c_str(), stdout);
  });

  auto ref = std::make_shared<std::string>();
  auto* show = module->add_subcommand("show", "a module's YAML (NAME or NAME@VERSION)");
  show->add_option("module", *ref, "NAME or NAME@VERSION")->required();
  show->callback([&session, &outcome, ref] {
    auto result = session.call(cp::encode(cp::kModuleShow, cp::ModuleRequest{*ref}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    const Value& m = *result;
    std::printf("# %s@%lld, %s, owner %s, %s\n", m["name"].str().c_str(),
                static_cast<long long>(m["version"].as_int()), m["kind"].str().c_str(),
                m["owner"].str().c_str(), visibility_text(m).c_str());
    std::string content = m["content"].str();
    std::fputs(content.c_str(), stdout);
    if (!content.empty() && content.back() != '\n') std::fputs("\n", stdout);
  });

  auto name = std::make_shared<std::string>();
  auto* versions = module->add_subcommand("versions", "every stored version of a module");
  versions->add_option("name", *name, "module name")->required();
  versions->callback([&session, &outcome, name] {
    auto result = session.call(cp::encode(cp::kModuleVersions, cp::NameRequest{*name}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    Table table({"VERSION", "CREATED", "OWNER", "DIGEST"});
    for (const auto& v : result->items()) {
      table.add({std::to_string(v["version"].as_int()), local_time(v["created_at"].as_int()),
                 v["owner"].str(), v["digest"].str()});
    }
    std::fputs(table.render().c_str(), stdout);
  });

  auto rm_ref = std::make_shared<std::string>();
  auto* rm = module->add_subcommand("rm", "remove a version (NAME@V) or every version (NAME)");
  rm->add_option("module", *rm_ref, "NAME or NAME@VERSION")->required();
  rm->callback([&session, &outcome, rm_ref] {
    auto result = session.call(cp::encode(cp::kModuleRm, cp::ModuleRequest{*rm_ref}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    for (const auto& r : (*result)["removed"].items()) std::printf("removed %s\n", r.str().c_str());
  });

  struct ShareArgs {
    std::string name, group;
    bool make_public = false, make_private = false;
  };
  auto share_args = std::make_shared<ShareArgs>();
  auto* share = module->add_subcommand("share", "who else may see and deploy a module");
  share->add_option("name", share_args->name, "module name")->required();
  auto* pub = share->add_flag("--public", share_args->make_public, "every user");
  auto* grp = share->add_option("--group", share_args->group, "the members of GROUP");
  auto* priv = share->add_flag("--private", share_args->make_private, "only you (and admins)");
  pub->excludes(grp)->excludes(priv);
  grp->excludes(priv);
  share->callback([&session, &outcome, share_args] {
    std::string visibility = share_args->make_public      ? "public"
                             : !share_args->group.empty() ? "group"
                             : share_args->make_private   ? "private"
                                                          : "";
    if (visibility.empty()) {
      outcome.status =
          session.fail(Error(Code::kUsage, "say --public, --group GROUP or --private"));
      return;
    }
    auto result =
        session.call(cp::encode(cp::ShareRequest{share_args->name, visibility, share_args->group}));
    if (!result.ok()) {
      outcome.status = session.fail(result.error());
      return;
    }
    if (session.json) return session.print_json(*result);
    std::printf("%s is now %s\n", share_args->name.c_str(),
                visibility == "group" ? ("shared with group " + share_args->group).c_str()
                                      : visibility.c_str());
  });
}

}  // namespace slipway::cli
