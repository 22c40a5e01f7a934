// Control operations that stream: watch (deploy --wait, wait), logs -f and
// events -f. Each subscribes to what changes and unsubscribes when it
// answers or its caller goes away.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/clock.h"
#include "controller/control/control_server.h"
#include "controller/deployments/deployment_engine.h"
#include "controller/deployments/event_log.h"

namespace slipway::controller {

class WatchHandlers {
 public:
  // Snapshots and log reads are posted to `io`, so they are taken once the
  // engine has settled. Watch's timeout is judged on `clock` at each tick().
  WatchHandlers(DeploymentEngine& engine, EventLog& events, const Clock& clock,
                boost::asio::io_context& io)
      : engine_(engine), events_(events), clock_(clock), io_(io) {}

  void register_with(ControlServer& server);
  // Ends the watches whose timeout has passed; the controller calls it on
  // every tick of its loop.
  void tick();

  // Snapshots of the deployment as it changes, until it reaches the state
  // asked for (default Ready) or ends.
  void watch(const Caller& caller, const Value& request, Reply reply);
  // The output of every script so far and, with follow, as it comes.
  void logs(const Caller& caller, const Value& request, Reply reply);
  // The event log; users see their own deployments' events, admins all.
  void events(const Caller& caller, const Value& request, Reply reply);

 private:
  DeploymentEngine& engine_;
  EventLog& events_;
  const Clock& clock_;
  boost::asio::io_context& io_;
  // Open watches with a timeout: when (steady ms), and how to end one then.
  struct Deadline {
    int64_t at;
    std::function<bool()> open;  // false once the watch has ended
    std::function<void()> expire;
  };
  std::vector<Deadline> deadlines_;
};

}  // namespace slipway::controller
