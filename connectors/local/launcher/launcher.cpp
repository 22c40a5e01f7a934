// slipway-local-launch's run: join the netns, configure it, fork PID 1 of the
// machine into a new pid namespace, and report.
#include "connectors/local/launcher/launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "connectors/local/launch_protocol.h"
#include "connectors/local/launcher/launch_request.h"
#include "connectors/local/launcher/machine_init.h"
#include "connectors/local/launcher/namespace_network.h"

namespace slipway::connectors::local::launcher {
namespace {

int report_failure(const std::string& sentence) {
  std::printf("%s\n", sentence.c_str());
  return 1;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

Status join_network_namespace(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(Code::kNotFound, errno_text("cannot open network namespace " + path));
  int rc = ::setns(fd, CLONE_NEWNET);
  ::close(fd);
  if (rc != 0) return Error(Code::kIo, errno_text("cannot join network namespace " + path));
  return ok_status();
}

// Everything this process forks afterwards, the machine included, stays in
// the group.
Status join_cgroup(const std::string& dir) {
  const std::string procs = dir + "/cgroup.procs";
  const std::string pid = std::to_string(::getpid());
  int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error(Code::kIo, errno_text("cannot join control group " + dir));
  ssize_t n = ::write(fd, pid.data(), pid.size());
  int saved = errno;
  ::close(fd);
  if (n == static_cast<ssize_t>(pid.size())) return ok_status();
  errno = n < 0 ? saved : EIO;
  return Error(Code::kIo, errno_text("cannot join control group " + dir));
}

std::string read_all(int fd) {
  std::string out;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

int run_launcher(int argc, char** argv) {
  // Whatever slipwayd left open without close-on-exec must not reach a machine.
  ::close_range(3, ~0U, 0);
  auto request = parse_launch_request(argc, argv);
  if (!request.ok()) return report_failure(request.error().message());

  for (const auto& group : request->cgroups) {
    Status in = join_cgroup(group);
    if (!in.ok()) return report_failure(in.error().message());
  }
  Status joined = join_network_namespace(request->netns);
  if (!joined.ok()) return report_failure(joined.error().message());
  Status network = configure_namespace_network(request->address, request->gateway);
  if (!network.ok()) return report_failure(network.error().message());
  // Our next child is PID 1 of a new pid namespace; we stay outside it.
  if (::unshare(CLONE_NEWPID) != 0) {
    return report_failure(errno_text("cannot create the machine's pid namespace"));
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return report_failure(errno_text("cannot make a pipe"));
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) return report_failure(errno_text("cannot fork the machine's PID 1"));
  if (pid == 0) {
    ::close(report[0]);
    become_machine(*request, report[1]);
  }
  ::close(report[1]);
  std::string failure = read_all(report[0]);  // EOF: exec'd, or died
  ::close(report[0]);
  while (!failure.empty() && failure.back() == '\n') failure.pop_back();
  if (!failure.empty()) {
    ::waitpid(pid, nullptr, 0);
    return report_failure(failure);
  }
  ProcessStamp stamp = read_process_stamp(pid);
  if (stamp.start_time == 0 || stamp.state == 'Z') {
    ::waitpid(pid, nullptr, 0);
    return report_failure("the machine's PID 1 died as it started");
  }
  std::printf("%s%d %llu\n", kLaunchOk, static_cast<int>(pid),
              static_cast<unsigned long long>(stamp.start_time));
  return 0;
}

}  // namespace slipway::connectors::local::launcher
