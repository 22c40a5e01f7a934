#include "controller/store/schema.h"

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

    // 2: the module catalog.
    R"sql(
CREATE TABLE modules (
  name        TEXT NOT NULL,
  version     INTEGER NOT NULL,
  kind        TEXT NOT NULL,             -- 'image' or 'deployment'
  content     TEXT NOT NULL,             -- the YAML as pushed
  digest      TEXT NOT NULL,             -- of the canonical form: equal digests, same module
  owner_uid   INTEGER NOT NULL,
  owner_name  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE module_access (
  name          TEXT PRIMARY KEY,
  owner_uid     INTEGER NOT NULL,
  owner_name    TEXT NOT NULL,
  visibility    TEXT NOT NULL DEFAULT 'private',  -- 'private', 'group' or 'public'
  group_name    TEXT NOT NULL DEFAULT '',
  next_version  INTEGER NOT NULL DEFAULT 1        -- versions are never reused
);
)sql",

    // 3: deployments, their instances, runtime parameters, barriers, logs, reports.
    R"sql(
CREATE TABLE deployments (
  id                   TEXT PRIMARY KEY,
  module               TEXT NOT NULL,             -- NAME@VERSION deployed
  owner_uid            INTEGER NOT NULL,
  owner_name           TEXT NOT NULL,
  state                TEXT NOT NULL,
  aborted              INTEGER NOT NULL DEFAULT 0,
  abort_reason         TEXT NOT NULL DEFAULT '',
  keep_running         TEXT NOT NULL,
  timeout_ms           INTEGER NOT NULL,
  created_at           INTEGER NOT NULL,
  state_since          INTEGER NOT NULL,
  reached_ready        INTEGER NOT NULL DEFAULT 0,
  terminate_requested  INTEGER NOT NULL DEFAULT 0,
  ended_at             INTEGER NOT NULL DEFAULT 0,
  spec                 BLOB NOT NULL              -- msgpack: the resolved nodes and their plans
);
CREATE TABLE instances (
  deployment  TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,                   -- 'web.2'
  node        TEXT NOT NULL,
  idx         INTEGER NOT NULL,
  cloud       TEXT NOT NULL,
  machine_id  TEXT NOT NULL,
  public_key  TEXT NOT NULL,
  status      TEXT NOT NULL,                   -- pending, launching, booting, running, lost, failed, terminated
  address     TEXT NOT NULL DEFAULT '',
  phase       TEXT NOT NULL DEFAULT '',
  state_done  TEXT NOT NULL DEFAULT '',        -- the last deployment state it completed
  error       TEXT NOT NULL DEFAULT '',
  completed   TEXT NOT NULL DEFAULT '',        -- step ids completed, one per line
  PRIMARY KEY (deployment, name)
);
CREATE TABLE parameters (
  deployment  TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  key         TEXT NOT NULL,                   -- 'web.2:port', 'web:multiplicity', 'ss:state'
  value       TEXT,                            -- NULL: not set yet
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (deployment, key)
);
CREATE TABLE barriers (
  deployment  TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  instance    TEXT NOT NULL,                   -- '' marks the barrier released
  PRIMARY KEY (deployment, name, instance)
);
CREATE TABLE logs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment  TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  instance    TEXT NOT NULL,
  step        TEXT NOT NULL,
  stream      INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  data        BLOB NOT NULL,
  UNIQUE (deployment, instance, step, stream, seq)
);
CREATE TABLE reports (                       -- report files, as the chunks they came in
  deployment  TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  instance    TEXT NOT NULL,
  name        TEXT NOT NULL,
  offset      INTEGER NOT NULL,
  data        BLOB NOT NULL,
  last        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (deployment, instance, name, offset)
);
)sql",
    // 2: the image factory's builds (docs/images.md).
    R"sql(
CREATE TABLE image_builds (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,              -- the image module built
  version      INTEGER NOT NULL,           -- its version the build was made of
  cloud        TEXT NOT NULL,
  state        TEXT NOT NULL,              -- 'building', 'ready' or 'failed'
  hash         TEXT NOT NULL,              -- of what the build holds (image_builds.h)
  base         TEXT NOT NULL DEFAULT '',   -- the parent's build it started from
  depth        INTEGER NOT NULL,           -- modules of the chain it holds
  deployment   TEXT NOT NULL,              -- the run that builds it
  reference    BLOB NOT NULL DEFAULT x'',   -- msgpack: what its machines boot
  dir          TEXT NOT NULL,              -- its files, under DATA_DIR/images
  size_bytes   INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  finished_at  INTEGER NOT NULL DEFAULT 0,
  error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX image_builds_by_name ON image_builds(name, cloud);
)sql",
};

}  // namespace

std::span<const char* const> schema_migrations() {
  return kMigrations;
}

}  // namespace slipway::controller
