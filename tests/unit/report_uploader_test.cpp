#include "agent/report_uploader.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent_test_loop.h"
#include "common/fs.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::agent;

namespace {

struct Uploads {
  test::AgentLoop t;
  test::Sent sent;
  bool link_up = true;
  uint64_t ids = 100;
  bool finished = false;
  ReportUploader uploader{t.loop,
                          [this](const proto::AgentMessage& m) {
                            if (!link_up) return false;
                            sent.messages.push_back(m);
                            return true;
                          },
                          [this] { return ++ids; }};
  std::vector<proto::ReportChunk> chunks() const { return sent.all<proto::ReportChunk>(); }
  void reply(const proto::ReportChunk& chunk, const std::string& code = "ok") {
    CHECK(uploader.on_reply(proto::Reply{chunk.id, code, "", {}, "refused"}));
  }
};

}  // namespace

TEST_CASE("report files are listed recursively and relative to the report directory",
          "[agent][reports]") {
  test::TempDir dir;
  REQUIRE(fs::make_dirs(dir.path() + "/r/logs/deep", 0755).ok());
  REQUIRE(fs::write_file_atomic(dir.path() + "/r/b.txt", "b", 0644).ok());
  REQUIRE(fs::write_file_atomic(dir.path() + "/r/logs/deep/c.log", "c", 0644).ok());
  REQUIRE(fs::write_file_atomic(dir.path() + "/outside", "o", 0644).ok());
  REQUIRE(::symlink((dir.path() + "/outside").c_str(), (dir.path() + "/r/link").c_str()) == 0);
  REQUIRE(::symlink(dir.path().c_str(), (dir.path() + "/r/loop").c_str()) == 0);
  auto files = ReportUploader::list_files(dir.path() + "/r");
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.name);
  CHECK(names == std::vector<std::string>{"b.txt", "link", "logs/deep/c.log"});
}

TEST_CASE("one report chunk is in flight at a time, and resent after a reconnection",
          "[agent][reports]") {
  test::TempDir dir;
  std::string data(proto::kMaxChunkSize + 10, 'd');
  REQUIRE(fs::write_file_atomic(dir.path() + "/data", data, 0644).ok());
  REQUIRE(fs::write_file_atomic(dir.path() + "/empty", "", 0644).ok());
  Uploads u;
  u.uploader.start({{"data", dir.path() + "/data"},
                    {"gone", dir.path() + "/missing"},
                    {"refused", dir.path() + "/data"},
                    {"empty", dir.path() + "/empty"}},
                   [&] { u.finished = true; });
  CHECK(u.uploader.busy());
  u.t.run_for(50);
  REQUIRE(u.chunks().size() == 1);  // waits for the reply
  CHECK(u.chunks()[0].name == "data");
  CHECK(u.chunks()[0].data.size() == proto::kMaxChunkSize);
  CHECK_FALSE(u.chunks()[0].last);

  // The link drops before the reply; the same chunk goes again after the welcome.
  u.link_up = false;
  u.uploader.on_welcome();
  CHECK(u.chunks().size() == 1);
  u.link_up = true;
  u.uploader.on_welcome();
  REQUIRE(u.chunks().size() == 2);
  CHECK(u.chunks()[1].id == u.chunks()[0].id);
  CHECK(u.chunks()[1].offset == 0);
  // A reply to something else is not ours.
  CHECK_FALSE(u.uploader.on_reply(proto::Reply{12345, "ok", "", {}, ""}));
  u.reply(u.chunks()[1]);
  REQUIRE(u.chunks().size() == 3);
  CHECK(u.chunks()[2].offset == proto::kMaxChunkSize);
  CHECK(u.chunks()[2].data == "dddddddddd");
  CHECK(u.chunks()[2].last);
  u.reply(u.chunks()[2]);
  // "gone" cannot be read: skipped. "refused" is refused at its first chunk: skipped.
  REQUIRE(u.chunks().size() == 4);
  CHECK(u.chunks()[3].name == "refused");
  u.reply(u.chunks()[3], "invalid-argument");
  REQUIRE(u.chunks().size() == 5);
  CHECK(u.chunks()[4].name == "empty");
  CHECK(u.chunks()[4].data.empty());
  CHECK(u.chunks()[4].last);
  CHECK_FALSE(u.finished);
  u.reply(u.chunks()[4]);
  CHECK(u.finished);
  CHECK_FALSE(u.uploader.busy());
}
