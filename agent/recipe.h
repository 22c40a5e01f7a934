// The machine's part of its deployment (SPEC section 3): after each welcome
// and each state change, does the work of the deployment's current state and
// then says state_done:
//   Provisioning    nothing to do;
//   Executing       the plan's Executing steps, in order, skipping completed ones;
//   SendingReports  the report steps, then the files of the report directory
//                   and the scripts log are uploaded;
//   any other       nothing, and no state_done.
// A step that exits non-zero stops its state's remaining steps; the
// controller then aborts the run. When the abort flag rises, a running step
// of any state but SendingReports is stopped (report steps still run, so
// reports arrive). A completed step is recorded in the progress file before
// its step_done is sent and is never run again; a failed one is not rerun by
// this agent either (its step_done is sent again instead).
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/child_process.h"
#include "agent/event_loop.h"
#include "agent/lingering_pipes.h"
#include "agent/outbox.h"
#include "agent/progress_file.h"
#include "agent/report_uploader.h"
#include "agent/scripts_log.h"
#include "agent/step_runner.h"
#include "common/protocol.h"

namespace slipway::agent {

struct RecipeOptions {
  std::string state_dir;
  std::vector<std::string> inherited_env;  // the agent's own environment
  std::string deployment;                  // from the contextualization, until a welcome says
  std::string instance;
};

class Recipe {
 public:
  Recipe(EventLoop& loop, ChildReaper& reaper, LingeringPipes& lingering, Outbox& outbox,
         ReportUploader::SendNow send_now, ReportUploader::NextId next_id, RecipeOptions options);
  Recipe(const Recipe&) = delete;
  Recipe& operator=(const Recipe&) = delete;

  // Makes the state directory's layout and reads the progress file; clears
  // the state another instance left there (a machine of a built image).
  Status open();

  void on_welcome(const proto::Welcome& welcome);
  void on_state(const proto::StateChanged& state);
  // True when `reply` was for a report chunk.
  bool on_reply(const proto::Reply& reply) { return uploader_.on_reply(reply); }

  // Step ids this machine has completed, for the hello.
  std::vector<std::string> completed() const { return progress_.ids(); }
  // The scripts' environment (also that of exec commands).
  const std::vector<std::string>& environment() const { return env_; }
  bool busy() const { return runner_.busy() || uploader_.busy(); }
  const std::string& state() const { return state_; }

 private:
  Status claim_state_dir();
  void apply(const std::string& state, bool aborted);
  void advance();
  const proto::Step* next_step(const std::string& state) const;
  void on_step_done(const proto::Step& step, const StepOutcome& outcome);
  void start_upload();
  void finish_state(const std::string& state);
  void update_environment();

  RecipeOptions options_;
  Outbox& outbox_;
  ProgressFile progress_;
  ScriptsLog scripts_log_;
  StepRunner runner_;
  ReportUploader uploader_;

  proto::Plan plan_;
  std::string deployment_;
  std::string instance_;
  std::vector<std::string> env_;
  std::set<std::string> completed_;  // progress file + welcome's + this run's
  std::string state_;
  bool aborted_ = false;
  bool pending_work_ = false;                      // the current state's work is not finished yet
  std::map<std::string, proto::StepDone> failed_;  // by state: the step that failed it
  bool reports_uploaded_ = false;
};

}  // namespace slipway::agent
