// The barriers table: who has arrived at each named barrier of a
// deployment; a row with no instance marks the barrier released.
//
// Not thread-safe: event loop only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::controller {

class Store;

struct BarrierRow {
  std::string deployment;
  std::string name;
  std::string instance;  // "": the barrier is released
};

class BarrierRows {
 public:
  explicit BarrierRows(Store& store) : store_(store) {}

  // Writes `rows` in one transaction, with one prepared statement (a group
  // of arrivals costs one commit, not one each); a row stored already is
  // left as it is. Returns, by index into `rows`, the error of each row that
  // could not be written: every row's when the transaction could not begin
  // or commit, none when all were written. A row that fails leaves the
  // others in the transaction.
  std::map<size_t, Error> put_all(const std::vector<BarrierRow>& rows);
  // Every row of a deployment, in no particular order; empty when it has
  // none. A store failure is kIo, or kAlreadyExists when a constraint refuses it.
  Result<std::vector<BarrierRow>> all(const std::string& deployment);

 private:
  Store& store_;
};

}  // namespace slipway::controller
