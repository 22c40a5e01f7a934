#include "controller/schema.h"

namespace slipway::controller {
namespace {

constexpr const char* kMigrations[] = {
    // 1: agent keys and the event log.
    R"sql(
CREATE TABLE agent_keys (
  public_key  TEXT PRIMARY KEY,          -- Z85 CURVE public key
  deployment  TEXT NOT NULL DEFAULT '',  -- '' for an agent registered by hand
  instance    TEXT NOT NULL,             -- 'web.2', or the registered agent's name
  revoked     INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL           -- unix milliseconds
);
CREATE UNIQUE INDEX agent_keys_live ON agent_keys(deployment, instance) WHERE revoked = 0;
CREATE TABLE events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  deployment  TEXT NOT NULL DEFAULT '',
  kind        TEXT NOT NULL,
  message     TEXT NOT NULL
);
CREATE INDEX events_by_deployment ON events(deployment, id);
)sql",
};

}  // namespace

std::span<const char* const> schema_migrations() { return kMigrations; }

}  // namespace slipway::controller
