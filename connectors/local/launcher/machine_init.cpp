#include "connectors/local/launcher/machine_init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "connectors/local/launch_protocol.h"
#include "connectors/local/launcher/confinement.h"

namespace slipway::connectors::local::launcher {
namespace {

int g_report_fd = -1;

[[noreturn]] void report(const std::string& sentence) {
  const std::string line = sentence + "\n";
  ssize_t ignored = ::write(g_report_fd, line.data(), line.size());
  (void)ignored;
  ::_exit(1);
}

[[noreturn]] void fail(const std::string& what) {
  report(what + ": " + std::strerror(errno));
}

void check(int rc, const std::string& what) {
  if (rc < 0) fail(what);
}

void mount_at(const std::string& root, const char* target, const char* type, unsigned long flags,
              const char* options) {
  const std::string path = root + target;
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) fail("cannot create " + path);
  check(::mount(type, path.c_str(), type, flags, options),
        std::string("cannot mount ") + type + " on " + target + " in the machine");
}

// A private /dev on tmpfs. Not devtmpfs: that one is shared with the host.
void populate_dev(const std::string& root) {
  struct Node {
    const char* name;
    unsigned major, minor;
  };
  static constexpr Node kNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (const Node& node : kNodes) {
    const std::string path = root + "/dev/" + node.name;
    check(::mknod(path.c_str(), S_IFCHR | 0666, makedev(node.major, node.minor)),
          "cannot create /dev/" + std::string(node.name) + " in the machine");
    // mknod applies slipwayd's umask; users other than root (apt's _apt
    // sandbox writes to /dev/null) need the nodes writable.
    check(::chmod(path.c_str(), 0666), "cannot chmod /dev/" + std::string(node.name));
  }
  check(::mkdir((root + "/dev/pts").c_str(), 0755), "cannot create /dev/pts in the machine");
  check(::mkdir((root + "/dev/shm").c_str(), 01777), "cannot create /dev/shm in the machine");
  mount_at(root, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           "newinstance,ptmxmode=0666,mode=0620,gid=5");
  mount_at(root, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  static constexpr const char* kLinks[][2] = {{"pts/ptmx", "ptmx"},
                                              {"/proc/self/fd", "fd"},
                                              {"/proc/self/fd/0", "stdin"},
                                              {"/proc/self/fd/1", "stdout"},
                                              {"/proc/self/fd/2", "stderr"}};
  for (const auto& link : kLinks) {
    check(::symlink(link[0], (root + "/dev/" + link[1]).c_str()),
          std::string("cannot create /dev/") + link[1] + " in the machine");
  }
}

// The directory of the controller's Unix socket for agents, read-only: the
// agent can connect (a socket needs no write access to its file system) but
// nothing in the machine can put anything there. A directory and not the
// socket itself, so a restarted controller's new socket shows too.
void bind_agent_socket(const std::string& root, const std::string& host_dir) {
  const std::string path = root + kAgentSocketDirInMachine;
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create " + path);
  const std::string what = std::string("cannot bind ") + host_dir + " at " +
                           kAgentSocketDirInMachine + " in the machine";
  check(::mount(host_dir.c_str(), path.c_str(), nullptr, MS_BIND, nullptr), what);
  check(::mount(nullptr, path.c_str(), nullptr,
                MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
        what);
}

// A built image's layer (an ext4 file system in a file), read-only at DIR,
// from a loop device that frees itself when the last mount of it goes: with
// the machine's mount namespace. Its own file system, so overlayfs can stack
// it over the host's root (layers of one file system may not nest).
void mount_layer(const std::string& image, const std::string& dir) {
  int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  check(control, "cannot open /dev/loop-control for the image's layer");
  int backing = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
  check(backing, "cannot open the image's layer " + image);
  for (int attempt = 0;; ++attempt) {
    int n = ::ioctl(control, LOOP_CTL_GET_FREE);
    check(n, "cannot get a free loop device for the image's layer");
    const std::string device = "/dev/loop" + std::to_string(n);
    int loop = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
    check(loop, "cannot open " + device);
    loop_config config {};
    config.fd = static_cast<uint32_t>(backing);
    config.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    if (::ioctl(loop, LOOP_CONFIGURE, &config) != 0) {
      ::close(loop);
      // Another launcher took it between the two calls: take the next.
      if (errno == EBUSY && attempt < 16) continue;
      fail("cannot attach the image's layer to " + device);
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail("cannot create " + dir);
    check(::mount(device.c_str(), dir.c_str(), "ext4", MS_RDONLY, "noload"),
          "cannot mount the image's layer from " + device);
    ::close(loop);  // the mount holds it now; autoclear frees it with the mount
    break;
  }
  ::close(backing);
  ::close(control);
}

void mount_root(const LaunchRequest& r) {
  const std::string root = r.machine_dir + "/merged";
  // Nothing mounted from here on may propagate back to the host.
  check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
        "cannot make the machine's mounts private");
  std::string lower = r.lower;
  std::string layers_above;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const std::string layer_dir = r.machine_dir + "/image." + std::to_string(i);
    mount_layer(r.layers[i], layer_dir);
    layers_above += layer_dir + ":";
  }
  lower = layers_above + r.lower;
  const std::string layers = "lowerdir=" + lower + ",upperdir=" + r.machine_dir +
                             "/upper,workdir=" + r.machine_dir + "/work";
  check(::mount("overlay", root.c_str(), "overlay", 0, layers.c_str()),
        "cannot mount the overlay root file system on " + root);
  mount_at(root, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_at(root, "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_at(root, "/dev", "tmpfs", MS_NOSUID, "mode=0755,size=1m");
  populate_dev(root);
  mount_at(root, "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  check(::mkdir((root + "/run/lock").c_str(), 01777), "cannot create /run/lock in the machine");
  mount_at(root, "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  if (!r.agent_socket_dir.empty()) bind_agent_socket(root, r.agent_socket_dir);
}

// The old root is stacked under the new one by pivot_root(".", ".") and then
// detached lazily: every host mount (and the /run/netns binds that would keep
// other machines' namespaces alive) leaves the machine's view.
void pivot_into(const std::string& root) {
  check(::chdir(root.c_str()), "cannot enter " + root);
  check(static_cast<int>(::syscall(SYS_pivot_root, ".", ".")),
        "cannot pivot_root into the machine");
  check(::umount2(".", MNT_DETACH), "cannot detach the host's root from the machine");
  check(::chdir("/"), "cannot enter the machine's root");
}

// An empty read-only tmpfs over a hidden directory, /dev/null over a file.
void hide(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // not in this root: nothing to hide
  if (S_ISDIR(st.st_mode)) {
    check(::mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=0755,size=4k"),
          "cannot hide " + path + " in the machine");
  } else {
    check(::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr),
          "cannot hide " + path + " in the machine");
  }
}

void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
}

}  // namespace

void become_machine(const LaunchRequest& r, int report_fd) {
  g_report_fd = report_fd;
  // Dies with the launcher while it sets up (the launcher is killed when it
  // takes too long); cleared just before the exec, once the machine stands.
  check(::prctl(PR_SET_PDEATHSIG, SIGKILL), "cannot set the parent-death signal");
  check(::setsid(), "cannot start a session");
  check(::unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC),
        "cannot create the machine's mount, uts and ipc namespaces");
  const std::string console_path = r.machine_dir + "/console.log";
  int console = ::open(console_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  check(console, "cannot open " + console_path);

  mount_root(r);
  check(::sethostname(r.hostname.data(), r.hostname.size()), "cannot set the machine's hostname");
  pivot_into(r.machine_dir + "/merged");
  for (const std::string& path : r.hide) hide(path);

  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  check(null, "cannot open /dev/null in the machine");
  check(::dup2(null, 0), "cannot redirect standard input");
  check(::dup2(console, 1), "cannot redirect standard output to the console log");
  check(::dup2(console, 2), "cannot redirect standard error to the console log");
  ::umask(022);
  if (Status confined = confine_machine(); !confined.ok()) report(confined.error().message());
  reset_signals();
  check(::prctl(PR_SET_PDEATHSIG, 0), "cannot clear the parent-death signal");

  std::vector<char*> argv;
  for (const std::string& arg : r.command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char home_env[] = "HOME=/root";
  char* env[] = {path_env, home_env, nullptr};
  ::execve(argv[0], argv.data(), env);
  fail("cannot start " + r.command[0] + " in the machine");
}

}  // namespace slipway::connectors::local::launcher
