// The qemu connector's pure parts: settings, what a reference boots, the
// kernel command line, qemu's arguments, records and names, QMP messages.
// (The connector itself boots machines in
// tests/integration/qemu_connector_test.cpp.)
#include <algorithm>
#include <catch2/catch.hpp>

#include "common/fs.h"
#include "connectors/qemu/boot_media.h"
#include "connectors/qemu/qemu_process.h"
#include "connectors/qemu/qmp.h"
#include "connectors/qemu/settings.h"
#include "connectors/qemu/vm_dir.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::connectors;
using namespace slipway::connectors::qemu;

namespace {

std::string settings_error(Value settings) {
  auto parsed = parse_qemu_settings("vms", settings);
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message();
}

std::string boot_error(const Value& reference, const std::string& images) {
  auto files = resolve_boot_files(reference, images);
  REQUIRE_FALSE(files.ok());
  return files.error().message();
}

bool contains(const std::vector<std::string>& args, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == a && args[i + 1] == b) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("qemu settings have defaults and refuse bad values in one sentence", "[unit][qemu]") {
  auto defaults = parse_qemu_settings("vms", Value());
  REQUIRE(defaults.ok());
  CHECK(defaults->bridge == "slipwayvm0");
  CHECK(defaults->subnet.to_string() == "10.214.0.0/24");
  CHECK(defaults->nat);
  CHECK(defaults->accel == Accel::kAuto);
  CHECK(defaults->memory_mb == 0);
  CHECK(defaults->qemu.empty());

  auto set = parse_qemu_settings("vms", Value::object()
                                            .set("bridge", "br-vm")
                                            .set("subnet", "10.99.0.0/16")
                                            .set("nat", false)
                                            .set("accel", "tcg")
                                            .set("memory_mb", 256)
                                            .set("qemu", "/opt/qemu/bin/qemu-system-x86_64"));
  REQUIRE(set.ok());
  CHECK(set->bridge == "br-vm");
  CHECK(set->subnet.to_string() == "10.99.0.0/16");
  CHECK_FALSE(set->nat);
  CHECK(set->accel == Accel::kTcg);
  CHECK(set->memory_mb == 256);
  CHECK(set->qemu == "/opt/qemu/bin/qemu-system-x86_64");

  CHECK(settings_error(Value::object().set("accel", "hvf")) ==
        "cloud vms: accel must be auto, kvm or tcg, not \"hvf\"");
  CHECK(settings_error(Value::object().set("memory_mb", 64)) ==
        "cloud vms: memory_mb must be a number of MiB from 80 to 1048576, not 64");
  CHECK(settings_error(Value::object().set("memory_mb", "lots")) ==
        "cloud vms: memory_mb must be a number of MiB from 80 to 1048576, not \"lots\"");
  CHECK(settings_error(Value::object().set("qemu", "qemu-system-x86_64")) ==
        "cloud vms: qemu must be the absolute path of qemu-system-x86_64, not "
        "\"qemu-system-x86_64\"");
  CHECK(settings_error(Value::object().set("subnet", "10.214.0.0/30")) ==
        "cloud vms: subnet 10.214.0.0/30 must be a /16 to a /28");
  CHECK(settings_error(Value::object().set("nat", "maybe")) ==
        "cloud vms: nat must be true or false");
  CHECK(settings_error(Value::object().set("cpus", 4)) ==
        "cloud vms: unknown setting \"cpus\" (the qemu connector knows bridge, subnet, nat, accel, "
        "memory_mb and qemu)");
  CHECK(settings_error(Value("x")) == "cloud vms: its settings must be a mapping");
}

TEST_CASE("a qemu reference names files in the images directory and prefers vmlinux",
          "[unit][qemu]") {
  test::TempDir images;
  const std::string dir = images.path() + "/busybox";
  REQUIRE(fs::make_dirs(dir, 0755).ok());
  REQUIRE(fs::write_file_atomic(dir + "/vmlinuz", "kernel", 0644).ok());
  REQUIRE(fs::write_file_atomic(dir + "/initramfs.cpio", "initrd", 0644).ok());
  Value reference =
      Value::object().set("kernel", "busybox/vmlinuz").set("initrd", "busybox/initramfs.cpio");

  auto files = resolve_boot_files(reference, images.path());
  REQUIRE(files.ok());
  CHECK(files->kernel == dir + "/vmlinuz");
  CHECK(files->initrd == dir + "/initramfs.cpio");
  CHECK(files->disk.empty());

  REQUIRE(fs::write_file_atomic(dir + "/vmlinux",
                                "\x7f"
                                "ELF",
                                0644)
              .ok());
  CHECK(resolve_boot_files(reference, images.path())->kernel == dir + "/vmlinux");

  // A disk's format comes from its first bytes.
  REQUIRE(
      fs::write_file_atomic(dir + "/disk.qcow2", std::string("QFI\xfb", 4) + "rest", 0644).ok());
  REQUIRE(fs::write_file_atomic(dir + "/disk.img", std::string(512, '\0'), 0644).ok());
  auto qcow2 =
      resolve_boot_files(Value(reference).set("disk", "busybox/disk.qcow2"), images.path());
  REQUIRE(qcow2.ok());
  CHECK(qcow2->disk == dir + "/disk.qcow2");
  CHECK(qcow2->disk_format == "qcow2");
  CHECK(resolve_boot_files(Value(reference).set("disk", dir + "/disk.img"), images.path())
            ->disk_format == "raw");

  CHECK(boot_error(Value::object().set("kernel", "busybox/bzImage"), images.path()) ==
        "the image's kernel " + dir +
            "/bzImage does not exist (is the image built? see images/README.md)");
  CHECK(boot_error(Value::object().set("kernel", "/nowhere/vmlinuz"), images.path()) ==
        "the image's kernel /nowhere/vmlinuz does not exist");
  CHECK(boot_error(Value::object().set("kernel", "busybox/../../etc/passwd"), images.path()) ==
        "the image's qemu kernel \"busybox/../../etc/passwd\" must be a path inside the images "
        "directory");
  CHECK(boot_error(Value::object().set("kernel", "busybox"), images.path()) ==
        "the image's kernel " + dir + " is not a readable file");
  CHECK(boot_error(Value::object().set("initrd", "busybox/initramfs.cpio"), images.path()) ==
        "the image's qemu reference names no kernel");
  CHECK(boot_error(Value::object().set("kernel", "busybox/vmlinuz").set("cmdline", "x"),
                   images.path()) ==
        "the image's qemu reference has an unknown key \"cmdline\" (it knows kernel, initrd and "
        "disk)");
  CHECK(boot_error(Value::object().set("kernel", 7), images.path()) ==
        "the image's qemu reference has a kernel that is not a path");
  CHECK(boot_error(Value(Value::Object{{"rootfs", "busybox"}}).set("kernel", "busybox/vmlinuz"),
                   images.path())
            .find("unknown key \"rootfs\"") != std::string::npos);
  CHECK(boot_error(Value("busybox"), images.path()) ==
        "the image's qemu reference must be a mapping with a kernel (and an initrd, a disk)");
}

TEST_CASE("a qemu machine's kernel command line carries its network, never its keys",
          "[unit][qemu]") {
  KernelNetwork network{"10.214.0.7/24", "10.214.0.1", {"192.0.2.53", "192.0.2.54"}, "web-2"};
  std::string line = kernel_command_line(network, false);
  CHECK(line.rfind("console=ttyS0 panic=-1 quiet", 0) == 0);
  CHECK(line.find(" slipway.ip=10.214.0.7/24 slipway.gw=10.214.0.1 "
                  "slipway.dns=192.0.2.53,192.0.2.54 slipway.hostname=web-2") != std::string::npos);
  CHECK(line.find("root=") == std::string::npos);
  CHECK(line.find("secret") == std::string::npos);
  CHECK(kernel_command_line(network, true).find(" root=/dev/vda rw ") != std::string::npos);
  network.dns.clear();
  CHECK(kernel_command_line(network, false).find("slipway.dns") == std::string::npos);
}

TEST_CASE("qemu gets relative paths in its machine directory and the disk before the seed",
          "[unit][qemu]") {
  QemuLaunch vm;
  vm.qemu = "/usr/bin/qemu-system-x86_64";
  vm.dir = "/var/lib/slipway/clouds/vms/machines/k3v9x2qa-web.2";
  vm.machine_id = "k3v9x2qa-web.2";
  vm.memory_mb = 128;
  vm.files = BootFiles{"/images/busybox/vmlinux", "/images/busybox/initramfs.cpio", "", ""};
  vm.command_line = "console=ttyS0";
  vm.tap = "slq0123456789ab";
  vm.mac = "02:53:0a:d6:00:07";
  auto args = qemu_arguments(vm);
  CHECK(args[0] == vm.qemu);
  CHECK(contains(args, "-accel", "tcg"));
  CHECK(contains(args, "-cpu", "max"));
  CHECK(contains(args, "-m", "128"));
  CHECK(contains(args, "-serial", "file:console.log"));
  CHECK(contains(args, "-qmp", "unix:qmp.sock,server=on,wait=off"));
  CHECK(contains(args, "-kernel", "/images/busybox/vmlinux"));
  CHECK(contains(args, "-initrd", "/images/busybox/initramfs.cpio"));
  CHECK(contains(args, "-append", "console=ttyS0"));
  CHECK(contains(args, "-netdev", "tap,id=net0,ifname=slq0123456789ab,script=no,downscript=no"));
  CHECK(contains(args, "-device", "virtio-net-pci,netdev=net0,mac=02:53:0a:d6:00:07,romfile="));
  CHECK(contains(args, "-drive", "file=seed.iso,if=none,id=seed,format=raw,readonly=on"));
  CHECK_FALSE(contains(args, "-drive", "file=disk.qcow2,if=none,id=disk0,format=qcow2"));
  for (const auto& arg : args) CHECK(arg.find(vm.dir) == std::string::npos);

  vm.kvm = true;
  vm.disk_overlay = true;
  vm.files.initrd.clear();
  args = qemu_arguments(vm);
  CHECK(contains(args, "-accel", "kvm"));
  CHECK(contains(args, "-cpu", "host"));
  CHECK(std::find(args.begin(), args.end(), "-initrd") == args.end());
  auto disk = std::find(args.begin(), args.end(), "file=disk.qcow2,if=none,id=disk0,format=qcow2");
  auto seed =
      std::find(args.begin(), args.end(), "file=seed.iso,if=none,id=seed,format=raw,readonly=on");
  REQUIRE(disk != args.end());
  CHECK(disk < seed);  // the disk is /dev/vda
}

TEST_CASE("a qemu machine record survives a round trip and names a tap reap can find",
          "[unit][qemu]") {
  VmRecord r;
  r.machine_id = "k3v9x2qa-web.2";
  r.hostname = "web-2";
  r.address = *parse_ipv4("10.214.0.7");
  r.tap = tap_name("slipwayvm0", r.machine_id);
  r.pid = 4242;
  r.start_time = 123456789012ULL;
  auto back = VmRecord::parse(r.to_text());
  REQUIRE(back.ok());
  CHECK(back->to_text() == r.to_text());
  CHECK_FALSE(VmRecord::parse("machine_id=x\n").ok());
  CHECK_FALSE(VmRecord::parse(r.to_text() + "tap=eth0\n").ok());

  CHECK(r.tap.size() == 15);
  CHECK(is_tap_name(r.tap));
  CHECK(r.tap != tap_name("slipwayvm1", r.machine_id));
  CHECK(r.tap != tap_name("slipwayvm0", "k3v9x2qa-web.3"));
  CHECK_FALSE(is_tap_name("slq0123456789aZ"));
  CHECK_FALSE(is_tap_name("eth0"));
}

TEST_CASE("QMP messages are told apart by their first key", "[unit][qemu]") {
  CHECK(qmp_first_key("{\"QMP\": {\"version\": {}}}") == "QMP");
  CHECK(qmp_first_key("{\"return\": {\"status\": \"running\", \"running\": true}}") == "return");
  CHECK(qmp_first_key(" {\"error\": {\"class\": \"GenericError\"}}\r") == "error");
  CHECK(qmp_first_key("{\"timestamp\": {\"seconds\": 1}, \"event\": \"SHUTDOWN\"}") == "timestamp");
  CHECK(qmp_first_key("").empty());
  CHECK(qmp_first_key("[1]").empty());
  CHECK(qmp_first_key("{\"unterminated").empty());
}
