#include "support/zap_handler.h"

#include <vector>

#include "common/crypto.h"
#include "common/log.h"
#include "controller/agents/key_registry.h"

namespace slipway::controller {

ZapHandler::ZapHandler(zmq::context_t& context, const KeyRegistry& keys)
    : context_(context), keys_(keys) {}

ZapHandler::~ZapHandler() {
  stop();
}

Status ZapHandler::start() {
  try {
    socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::rep);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    return Error(Code::kInternal, std::string("cannot start the ZAP handler: ") + e.what());
  }
  thread_ = std::thread([this] { run(); });
  return ok_status();
}

void ZapHandler::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  socket_.reset();
}

void ZapHandler::run() {
  zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
  while (!stopping_) {
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) > 0) answer(*socket_);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      LOG_ERROR("ZAP handler: %s", e.what());
    }
  }
}

// Request frames: version, request id, domain, address, routing id,
// mechanism, credentials... Reply: version, request id, status code, status
// text, user id, metadata. The user id we give is the client's public key,
// which every message from that client then carries as "User-Id".
void ZapHandler::answer(zmq::socket_t& socket) {
  std::vector<zmq::message_t> frames;
  for (;;) {
    zmq::message_t frame;
    if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
    bool more = frame.more();
    frames.push_back(std::move(frame));
    if (!more) break;
  }
  if (frames.size() < 6) return;  // libzmq never sends this; nothing sane to answer
  std::string version = frames[0].to_string();
  std::string request_id = frames[1].to_string();
  std::string address = frames[3].to_string();
  std::string mechanism = frames[5].to_string();

  std::string status = "400";
  std::string text = "unknown key";
  std::string user_id;
  if (version != "1.0") {
    status = "500";
    text = "unsupported ZAP version";
  } else if (mechanism == "CURVE" && frames.size() >= 7 && frames[6].size() == 32) {
    std::string key = crypto::key_to_text(frames[6].to_string_view());
    if (auto identity = keys_.find(key)) {
      status = "200";
      text = "OK";
      user_id = key;
      ++admitted_;
    } else {
      ++refused_;
      LOG_WARN("refused an agent from %s: its key %.8s... is not registered or was revoked",
               address.c_str(), key.c_str());
    }
  } else {
    ++refused_;
    LOG_WARN("refused a %s connection from %s: only CURVE is accepted", mechanism.c_str(),
             address.c_str());
  }
  socket.send(zmq::buffer(version), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(status), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(text), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
  socket.send(zmq::message_t(), zmq::send_flags::none);
}

}  // namespace slipway::controller
