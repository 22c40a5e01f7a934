#include "agent/pending_requests.h"

#include "common/crypto.h"
#include "common/log.h"

namespace slipway::agent {
namespace {

local::Answer unavailable() {
  local::Answer answer;
  answer.code = code_name(Code::kUnavailable);
  answer.message = "the controller is unreachable";
  return answer;
}

}  // namespace

PendingRequests::PendingRequests(EventLoop& loop, SendNow send_now, LinkReady link_ready)
    : loop_(loop),
      send_now_(std::move(send_now)),
      link_ready_(std::move(link_ready)),
      next_id_((static_cast<uint64_t>(crypto::random_below(1u << 30)) << 24) + 1) {}

PendingRequests::~PendingRequests() {
  for (auto& [id, pending] : requests_) loop_.cancel(pending.timer);
}

uint64_t PendingRequests::submit(local::Request request, OnAnswer on_answer) {
  uint64_t id = next_id();
  std::visit([id](auto& r) { r.id = id; }, request);
  Pending& pending = requests_[id];
  pending.request = std::move(request);
  pending.on_answer = std::move(on_answer);
  int64_t deadline = local::local_deadline_ms(pending.request);
  if (deadline > 0) {
    pending.timer = loop_.after(deadline, [this, id] {
      auto it = requests_.find(id);
      if (it == requests_.end()) return;
      it->second.timer = 0;
      it->second.expired = true;
      if (!link_ready_()) answer(id, unavailable());
    });
  }
  send(id, pending);
  return id;
}

void PendingRequests::send(uint64_t id, const Pending& pending) {
  bool sent = std::visit([this](const auto& r) { return send_now_(proto::AgentMessage(r)); },
                         pending.request);
  if (!sent)
    LOG_DEBUG("request %llu waits for the controller", static_cast<unsigned long long>(id));
}

void PendingRequests::cancel(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  loop_.cancel(it->second.timer);
  requests_.erase(it);
}

void PendingRequests::answer(uint64_t id, const local::Answer& answer) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  loop_.cancel(it->second.timer);
  OnAnswer on_answer = std::move(it->second.on_answer);
  requests_.erase(it);
  on_answer(answer);
}

bool PendingRequests::on_reply(const proto::Reply& reply) {
  if (!requests_.count(reply.id)) return false;
  local::Answer local_answer;
  local_answer.code = reply.code.empty() ? "ok" : reply.code;
  local_answer.value = reply.value;
  local_answer.values = reply.values;
  local_answer.message = reply.message;
  answer(reply.id, local_answer);
  return true;
}

void PendingRequests::on_welcome() {
  for (const auto& [id, pending] : requests_) send(id, pending);
}

void PendingRequests::on_lost() {
  std::vector<uint64_t> expired;
  for (const auto& [id, pending] : requests_) {
    if (pending.expired) expired.push_back(id);
  }
  for (uint64_t id : expired) answer(id, unavailable());
}

void PendingRequests::abort_all(const std::string& reason) {
  std::vector<uint64_t> ids;
  for (const auto& [id, pending] : requests_) {
    if (!std::holds_alternative<proto::Abort>(pending.request)) ids.push_back(id);
  }
  local::Answer aborted;
  aborted.code = code_name(Code::kAborted);
  aborted.message = "the deployment was aborted" + (reason.empty() ? std::string() : ": " + reason);
  for (uint64_t id : ids) answer(id, aborted);
}

}  // namespace slipway::agent
