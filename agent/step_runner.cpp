#include "agent/step_runner.h"

#include <unistd.h>

#include <csignal>

#include "agent/step_script.h"
#include "common/fs.h"
#include "common/log.h"

namespace slipway::agent {
namespace {

constexpr size_t kMaxErrorLine = 1024;
// Read at exit: what the script wrote before it ended, not what a service
// it left behind keeps writing.
constexpr size_t kMaxDrainAtExit = 16 << 20;

std::string trimmed(const std::string& line) {
  size_t end = line.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t start = line.find_first_not_of(" \t");
  return line.substr(start, end + 1 - start);
}

}  // namespace

StepRunner::StepRunner(EventLoop& loop, ChildReaper& reaper, LingeringPipes& lingering,
                       ScriptsLog& log, std::string scripts_dir, Send send)
    : loop_(loop),
      reaper_(reaper),
      lingering_(lingering),
      log_(log),
      scripts_dir_(std::move(scripts_dir)),
      send_(std::move(send)) {
  err_.number = proto::kStderr;
}

StepRunner::~StepRunner() {
  loop_.cancel(flush_timer_);
  loop_.cancel(early_timer_);
  if (busy_ && pid_ > 0) {
    signal_group(pid_, SIGKILL);
    reaper_.forget(pid_);
  }
  close_stream(out_, false);
  close_stream(err_, false);
}

void StepRunner::start(const proto::Step& step, const std::string& platform,
                       const std::vector<std::string>& env, Done done) {
  busy_ = true;
  step_ = step;
  done_ = std::move(done);
  pid_ = -1;
  out_.seq = err_.seq = 0;
  out_.pending.clear();
  err_.pending.clear();
  stderr_line_.clear();
  last_line_.clear();
  send_(proto::StepStarted{step.id});
  log_.begin_step(step.id, step.name + (step.module.empty() ? "" : " of " + step.module));

  auto text = step_script_text(step, platform);
  if (!text.ok()) return finish_early(1, text.error().message());
  std::string path = scripts_dir_ + "/" + sanitize_step_id(step.id);
  Status written = fs::make_dirs(scripts_dir_, 0700);
  if (written.ok()) written = fs::write_file_atomic(path, *text, 0700);
  if (!written.ok()) return finish_early(1, written.error().message());

  SpawnOptions options;
  options.argv = script_command(path, *text);
  options.env = env;
  auto child = spawn(options);
  if (!child.ok()) return finish_early(127, child.error().message());
  pid_ = child->pid;
  out_.fd = child->out_fd;
  err_.fd = child->err_fd;
  LOG_INFO("step %s started (pid %d)", step.id.c_str(), static_cast<int>(pid_));
  reaper_.adopt(pid_, [this](int status) { on_exit(status); });
  for (Stream* stream : {&out_, &err_}) {
    loop_.watch_fd(stream->fd, POLLIN, [this, stream](short) { on_readable(*stream); });
  }
}

void StepRunner::finish_early(int exit_code, const std::string& error_line) {
  LOG_ERROR("step %s: %s", step_.id.c_str(), error_line.c_str());
  log_.append(error_line + "\n");
  // done_ runs from the loop, never inside start().
  early_timer_ = loop_.after(0, [this, exit_code, error_line] {
    early_timer_ = 0;
    log_.end_step(step_.id, exit_code);
    busy_ = false;
    Done done = std::move(done_);
    done(StepOutcome{exit_code, error_line});
  });
}

void StepRunner::on_readable(Stream& stream) {
  std::string data;
  bool open = read_available(stream.fd, data, 256 << 10);
  take(stream, data);
  if (!open) close_stream(stream, false);
}

void StepRunner::take(Stream& stream, std::string_view data) {
  if (data.empty()) return;
  log_.append(data);
  if (stream.number == proto::kStderr) note_stderr(data);
  stream.pending.append(data);
  if (stream.pending.size() >= kChunkBytes) {
    flush(stream);
  } else if (flush_timer_ == 0) {
    flush_timer_ = loop_.after(kCoalesceMs, [this] {
      flush_timer_ = 0;
      flush_all();
    });
  }
}

void StepRunner::flush(Stream& stream) {
  size_t at = 0;
  while (at < stream.pending.size()) {
    size_t size = std::min(kChunkBytes, stream.pending.size() - at);
    send_(proto::Log{step_.id, stream.number, stream.seq++, stream.pending.substr(at, size)});
    at += size;
  }
  stream.pending.clear();
}

void StepRunner::flush_all() {
  loop_.cancel(flush_timer_);
  flush_timer_ = 0;
  flush(out_);
  flush(err_);
}

void StepRunner::note_stderr(std::string_view data) {
  for (char c : data) {
    if (c == '\n') {
      std::string line = trimmed(stderr_line_);
      if (!line.empty()) last_line_ = line;
      stderr_line_.clear();
    } else if (stderr_line_.size() < kMaxErrorLine) {
      stderr_line_ += c;
    }
  }
}

void StepRunner::on_exit(int wait_status) {
  for (Stream* stream : {&out_, &err_}) {
    if (stream->fd < 0) continue;
    std::string data;
    bool open = read_available(stream->fd, data, kMaxDrainAtExit);
    take(*stream, data);
    close_stream(*stream, open);
  }
  flush_all();
  std::string partial = trimmed(stderr_line_);
  if (!partial.empty()) last_line_ = partial;
  int code = exit_code_of(wait_status);
  LOG_INFO("step %s exited with code %d", step_.id.c_str(), code);
  log_.end_step(step_.id, code);
  pid_ = -1;
  busy_ = false;
  Done done = std::move(done_);
  done(StepOutcome{code, last_line_});
}

void StepRunner::close_stream(Stream& stream, bool linger) {
  if (stream.fd < 0) return;
  loop_.unwatch_fd(stream.fd);
  if (linger) {
    lingering_.adopt(stream.fd, [this](std::string_view data) { log_.append(data); });
  } else {
    ::close(stream.fd);
  }
  stream.fd = -1;
}

void StepRunner::stop() {
  if (!busy_ || pid_ <= 0 || stopped_pid_ == pid_) return;
  LOG_INFO("stopping step %s", step_.id.c_str());
  stopped_pid_ = pid_;
  signal_group(pid_, SIGTERM);
  // The whole group, even once the script itself is gone: what it started
  // is stopped too.
  pid_t pid = pid_;
  loop_.after(kKillGraceMs, [pid] { signal_group(pid, SIGKILL); });
}

}  // namespace slipway::agent
