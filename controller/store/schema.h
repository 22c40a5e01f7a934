// The controller's on-disk format: the SQLite schema as an ordered list of
// migrations. Migration i (1-based) takes PRAGMA user_version from i-1 to i.
// docs/storage.md describes the tables. Never edit a migration that has
// shipped; append a new one.
#pragma once

#include <span>

namespace slipway::controller {

std::span<const char* const> schema_migrations();

}  // namespace slipway::controller
