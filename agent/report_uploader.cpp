#include "agent/report_uploader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace slipway::agent {
namespace {

void walk(const std::string& dir, const std::string& prefix, int depth,
          std::vector<ReportUploader::File>& out) {
  if (depth > 32) return;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return;
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(handle)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      walk(path, prefix + name + "/", depth + 1, out);
    } else if (S_ISREG(st.st_mode) ||
               (S_ISLNK(st.st_mode) && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))) {
      out.push_back({prefix + name, path});
    }
  }
}

}  // namespace

std::vector<ReportUploader::File> ReportUploader::list_files(const std::string& dir) {
  std::vector<File> files;
  walk(dir, "", 0, files);
  return files;
}

ReportUploader::~ReportUploader() {
  loop_.cancel(timer_);
  close_file();
}

void ReportUploader::start(std::vector<File> files, std::function<void()> done) {
  busy_ = true;
  files_ = std::move(files);
  file_index_ = 0;
  uploaded_files_ = 0;
  done_ = std::move(done);
  LOG_INFO("uploading %zu report files", files_.size());
  // Never call back from inside start().
  timer_ = loop_.after(0, [this] {
    timer_ = 0;
    next_file();
  });
}

void ReportUploader::next_file() {
  close_file();
  while (file_index_ < files_.size()) {
    const File& file = files_[file_index_];
    fd_ = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st {};
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      file_size_ = static_cast<uint64_t>(st.st_size);
      in_flight_ = proto::ReportChunk{};
      in_flight_.name = file.name;
      next_chunk();
      return;
    }
    LOG_WARN("report %s is not uploaded: cannot read %s: %s", file.name.c_str(), file.path.c_str(),
             fd_ < 0 ? std::strerror(errno) : "not a regular file");
    close_file();
    ++file_index_;
  }
  finish();
}

void ReportUploader::next_chunk() {
  uint64_t offset = in_flight_.offset + in_flight_.data.size();
  std::string data(proto::kMaxChunkSize, '\0');
  ssize_t n;
  do {
    n = ::pread(fd_, data.data(), data.size(), static_cast<off_t>(offset));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    LOG_WARN("report %s is cut short: cannot read %s: %s", in_flight_.name.c_str(),
             files_[file_index_].path.c_str(), std::strerror(errno));
    n = 0;
  }
  data.resize(static_cast<size_t>(n));
  in_flight_.id = next_id_();
  in_flight_.offset = offset;
  in_flight_.last = data.size() < proto::kMaxChunkSize || offset + data.size() >= file_size_;
  in_flight_.data = std::move(data);
  send_in_flight();
}

void ReportUploader::send_in_flight() {
  waiting_ = true;
  loop_.cancel(timer_);
  timer_ = 0;
  if (!send_now_(proto::ReportChunk(in_flight_))) return;  // again after the next welcome
  timer_ = loop_.after(kReplyTimeoutMs, [this] {
    timer_ = 0;
    LOG_ERROR("the controller did not acknowledge report %s within %lld s; reports not uploaded",
              in_flight_.name.c_str(), static_cast<long long>(kReplyTimeoutMs / 1000));
    finish();
  });
}

bool ReportUploader::on_reply(const proto::Reply& reply) {
  if (!busy_ || !waiting_ || reply.id != in_flight_.id) return false;
  waiting_ = false;
  loop_.cancel(timer_);
  timer_ = 0;
  if (reply.code != "ok") {
    LOG_WARN("the controller refused report %s (%s): %s", in_flight_.name.c_str(),
             reply.code.c_str(), reply.message.c_str());
    ++file_index_;
    next_file();
  } else if (in_flight_.last) {
    ++uploaded_files_;
    ++file_index_;
    next_file();
  } else {
    next_chunk();
  }
  return true;
}

void ReportUploader::on_welcome() {
  if (busy_ && waiting_) send_in_flight();
}

void ReportUploader::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void ReportUploader::finish() {
  close_file();
  loop_.cancel(timer_);
  timer_ = 0;
  waiting_ = false;
  busy_ = false;
  in_flight_ = proto::ReportChunk{};
  LOG_INFO("uploaded %llu of %zu report files", static_cast<unsigned long long>(uploaded_files_),
           files_.size());
  files_.clear();
  auto done = std::move(done_);
  if (done) done();
}

}  // namespace slipway::agent
