#include "agent/recipe.h"

#include "agent/script_env.h"
#include "common/fs.h"
#include "common/log.h"

namespace slipway::agent {
namespace {

constexpr const char* kProvisioning = "Provisioning";
constexpr const char* kExecuting = "Executing";
constexpr const char* kSendingReports = "SendingReports";

}  // namespace

Recipe::Recipe(EventLoop& loop, ChildReaper& reaper, LingeringPipes& lingering, Outbox& outbox,
               ReportUploader::SendNow send_now, ReportUploader::NextId next_id,
               RecipeOptions options)
    : options_(std::move(options)),
      outbox_(outbox),
      progress_(options_.state_dir + "/progress"),
      scripts_log_(options_.state_dir + "/scripts.log"),
      runner_(loop, reaper, lingering, scripts_log_, options_.state_dir + "/scripts",
              [&outbox](proto::AgentMessage m) { outbox.post(std::move(m)); }),
      uploader_(loop, std::move(send_now), std::move(next_id)),
      deployment_(options_.deployment),
      instance_(options_.instance) {
  update_environment();
}

// The state directory belongs to one instance. A machine made from a built
// image (docs/images.md) may carry the state of the machine the image was
// built on: its progress would skip this instance's steps, and its log and
// reports would be shown as this one's. Such state is cleared.
Status Recipe::claim_state_dir() {
  const std::string owner_path = options_.state_dir + "/owner";
  const std::string owner = options_.deployment + " " + options_.instance + "\n";
  auto found = fs::read_file(owner_path, 4096);
  if (found.ok() && *found == owner) return ok_status();
  if (found.ok()) {
    LOG_INFO("the state directory is another instance's (%s): starting afresh",
             found->substr(0, found->find('\n')).c_str());
    for (const char* part : {"/progress", "/scripts.log", "/scripts", "/reports"}) {
      SLIPWAY_RETURN_IF_ERROR(fs::remove_tree(options_.state_dir + part));
    }
  }
  return fs::write_file_atomic(owner_path, owner, 0600);
}

Status Recipe::open() {
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(options_.state_dir, 0700));
  SLIPWAY_RETURN_IF_ERROR(claim_state_dir());
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(options_.state_dir + "/scripts", 0700));
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(options_.state_dir + "/reports", 0755));
  SLIPWAY_RETURN_IF_ERROR(progress_.load());
  for (const auto& id : progress_.ids()) completed_.insert(id);
  return ok_status();
}

void Recipe::update_environment() {
  ScriptIdentity identity{options_.state_dir, deployment_, instance_, plan_.env};
  env_ = script_environment(identity, options_.inherited_env);
}

void Recipe::on_welcome(const proto::Welcome& welcome) {
  if (!welcome.deployment.empty()) deployment_ = welcome.deployment;
  if (!welcome.instance.empty()) instance_ = welcome.instance;
  plan_ = welcome.plan;
  for (const auto& id : welcome.completed) completed_.insert(id);
  update_environment();
  uploader_.on_welcome();
  apply(welcome.state, welcome.aborted);
}

void Recipe::on_state(const proto::StateChanged& state) {
  apply(state.state, state.aborted);
}

void Recipe::apply(const std::string& state, bool aborted) {
  if (state != state_ || aborted != aborted_) {
    LOG_INFO("deployment state %s%s", state.empty() ? "(none)" : state.c_str(),
             aborted ? ", aborted" : "");
  }
  state_ = state;
  aborted_ = aborted;
  if (aborted && runner_.busy() && runner_.current().state != kSendingReports) runner_.stop();
  pending_work_ = true;
  advance();
}

const proto::Step* Recipe::next_step(const std::string& state) const {
  for (const auto& step : plan_.steps) {
    if (step.state == state && !completed_.count(step.id)) return &step;
  }
  return nullptr;
}

void Recipe::advance() {
  if (!pending_work_ || runner_.busy() || uploader_.busy()) return;
  if (state_ == kProvisioning) return finish_state(state_);
  if (state_ != kExecuting && state_ != kSendingReports) {
    pending_work_ = false;
    return;
  }
  auto failed = failed_.find(state_);
  bool reports = state_ == kSendingReports;
  if (!reports) {
    if (failed != failed_.end()) {
      outbox_.post(failed->second);  // the controller may not have heard it
      pending_work_ = false;
      return;
    }
    if (aborted_) {
      pending_work_ = false;
      return;
    }
  }
  // A failed report step stops the other report steps, but the reports still go.
  const proto::Step* step = failed == failed_.end() ? next_step(state_) : nullptr;
  if (step != nullptr) {
    proto::Step copy = *step;
    runner_.start(copy, plan_.platform, env_,
                  [this, copy](const StepOutcome& outcome) { on_step_done(copy, outcome); });
    return;
  }
  if (reports && !reports_uploaded_) return start_upload();
  finish_state(state_);
}

void Recipe::on_step_done(const proto::Step& step, const StepOutcome& outcome) {
  proto::StepDone done{step.id, outcome.exit_code, outcome.error_line};
  if (outcome.exit_code == 0) {
    completed_.insert(step.id);
    Status recorded = progress_.record(step.id);
    if (!recorded.ok()) {
      LOG_ERROR("step %s completed but is not recorded: %s", step.id.c_str(),
                recorded.error().message().c_str());
    }
  } else {
    LOG_WARN("step %s failed with exit code %d%s%s", step.id.c_str(), outcome.exit_code,
             outcome.error_line.empty() ? "" : ": ", outcome.error_line.c_str());
    failed_[step.state] = done;
    // Sent just below; advance() must not send it again.
    if (step.state == state_ && state_ != kSendingReports) pending_work_ = false;
  }
  outbox_.post(done);
  advance();
}

void Recipe::start_upload() {
  std::vector<ReportUploader::File> files =
      ReportUploader::list_files(options_.state_dir + "/reports");
  if (fs::exists(scripts_log_.path()))
    files.push_back({"_slipway/scripts.log", scripts_log_.path()});
  uploader_.start(std::move(files), [this] {
    reports_uploaded_ = true;
    advance();
  });
}

void Recipe::finish_state(const std::string& state) {
  LOG_INFO("done with state %s", state.c_str());
  pending_work_ = false;
  outbox_.post(proto::StateDone{state});
}

}  // namespace slipway::agent
