package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// migrations are the schema's versions, in order: migrations[i] takes a
// database from version i to i+1 (PRAGMA user_version). Never edit one that
// has shipped; add the next.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE towns (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  doc  TEXT NOT NULL
);
CREATE TABLE villages (
  id      TEXT PRIMARY KEY,
  town_id TEXT NOT NULL,
  name    TEXT NOT NULL,
  kind    TEXT NOT NULL,
  doc     TEXT NOT NULL,
  UNIQUE (town_id, name)
);
CREATE TABLE users (
  id    TEXT PRIMARY KEY,
  phone TEXT NOT NULL UNIQUE,
  role  TEXT NOT NULL,
  name  TEXT NOT NULL,
  doc   TEXT NOT NULL
);
CREATE TABLE user_towns (
  town_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (town_id, user_id)
) WITHOUT ROWID;
CREATE INDEX user_towns_user ON user_towns(user_id);
CREATE TABLE user_villages (
  village_id TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (village_id, user_id)
) WITHOUT ROWID;
CREATE INDEX user_villages_user ON user_villages(user_id);
CREATE TABLE refresh_tokens (
  hash       TEXT PRIMARY KEY,
  family     TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family);
CREATE TABLE refresh_used (hash TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE revoked_families (family TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE wechat_bindings (open_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE audit (
  id         TEXT PRIMARY KEY,
  at         INTEGER NOT NULL,
  user_id    TEXT NOT NULL,
  role       TEXT NOT NULL,
  entity     TEXT NOT NULL,
  entity_id  TEXT NOT NULL,
  action     TEXT NOT NULL,
  request_id TEXT NOT NULL,
  town_id    TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit(entity_id);
CREATE INDEX audit_user ON audit(user_id);
CREATE TABLE catalogues (
  kind TEXT NOT NULL,
  code TEXT NOT NULL,
  ord  INTEGER NOT NULL,
  doc  TEXT NOT NULL,
  PRIMARY KEY (kind, code)
);
CREATE TABLE campaigns (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE evaluations (
  campaign_id TEXT NOT NULL,
  village_id  TEXT NOT NULL,
  town_id     TEXT NOT NULL,
  doc         TEXT NOT NULL,
  PRIMARY KEY (campaign_id, village_id)
);
CREATE TABLE selections (
  campaign_id TEXT NOT NULL,
  village_id  TEXT NOT NULL,
  town_id     TEXT NOT NULL,
  level       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  doc         TEXT NOT NULL,
  PRIMARY KEY (campaign_id, village_id)
);
CREATE INDEX selections_village ON selections(village_id, created_at);
CREATE TABLE selection_notes (
  id          TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL,
  village_id  TEXT NOT NULL,
  doc         TEXT NOT NULL
);
CREATE INDEX selection_notes_village ON selection_notes(campaign_id, village_id, id);
CREATE TABLE problems (
  id         TEXT PRIMARY KEY,
  village_id TEXT NOT NULL,
  town_id    TEXT NOT NULL,
  status     TEXT NOT NULL,
  aspect     TEXT NOT NULL,
  doc        TEXT NOT NULL
);
CREATE INDEX problems_village ON problems(village_id, id);
CREATE INDEX problems_town ON problems(town_id, id);
CREATE TABLE targets (
  id         TEXT PRIMARY KEY,
  village_id TEXT NOT NULL,
  town_id    TEXT NOT NULL,
  year       INTEGER NOT NULL,
  domain     TEXT NOT NULL,
  kind       TEXT NOT NULL,
  doc        TEXT NOT NULL
);
CREATE INDEX targets_village ON targets(village_id, id);
CREATE INDEX targets_town ON targets(town_id, id);
CREATE TABLE target_progress (
  id        TEXT PRIMARY KEY,
  target_id TEXT NOT NULL,
  date      TEXT NOT NULL,
  doc       TEXT NOT NULL
);
CREATE INDEX target_progress_target ON target_progress(target_id, date, id);
CREATE TABLE units (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  doc  TEXT NOT NULL
);
CREATE TABLE teams (
  id          TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL,
  village_id  TEXT NOT NULL,
  town_id     TEXT NOT NULL,
  doc         TEXT NOT NULL,
  UNIQUE (campaign_id, village_id)
);
CREATE INDEX teams_village ON teams(village_id);
CREATE TABLE team_people (
  user_id TEXT NOT NULL,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, team_id)
) WITHOUT ROWID;
CREATE INDEX team_people_team ON team_people(team_id);
CREATE TABLE trainings (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE training_people (
  user_id     TEXT NOT NULL,
  training_id TEXT NOT NULL REFERENCES trainings(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, training_id)
) WITHOUT ROWID;
CREATE TABLE onpost_plans (
  week     TEXT NOT NULL,
  cadre_id TEXT NOT NULL,
  doc      TEXT NOT NULL,
  PRIMARY KEY (week, cadre_id)
);
CREATE TABLE assessments (
  village_id TEXT NOT NULL,
  period     TEXT NOT NULL,
  doc        TEXT NOT NULL,
  PRIMARY KEY (village_id, period)
);
CREATE TABLE field_checks (
  id         TEXT PRIMARY KEY,
  village_id TEXT NOT NULL,
  town_id    TEXT NOT NULL,
  quarter    TEXT NOT NULL,
  doc        TEXT NOT NULL
);
CREATE INDEX field_checks_village ON field_checks(village_id, id);
CREATE TABLE photo_pending (
  id         TEXT PRIMARY KEY,
  village_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX photo_pending_created ON photo_pending(created_at, id);

-- Field records: the columns the queries use, the rest as JSON (records.go).
CREATE TABLE records (
  id         TEXT NOT NULL UNIQUE,
  type       TEXT NOT NULL,
  village_id TEXT NOT NULL,
  town_id    TEXT NOT NULL,
  created_by TEXT NOT NULL,
  at         INTEGER NOT NULL,  -- the event's time, Unix ms
  seq        INTEGER NOT NULL,  -- the last change's number
  version    INTEGER NOT NULL,
  deleted    INTEGER NOT NULL,
  kind       TEXT NOT NULL,     -- a report's kind, a dispute's status, a project's stage
  project_id TEXT NOT NULL,     -- funds and project updates
  doc        TEXT NOT NULL
);
CREATE INDEX records_list ON records(village_id, type, deleted, at, id);
CREATE INDEX records_type_at ON records(type, deleted, at, id);
CREATE UNIQUE INDEX records_seq ON records(seq);
CREATE INDEX records_village_seq ON records(village_id, seq);
CREATE INDEX records_project ON records(project_id, type) WHERE project_id <> '';

-- The counts: one row per scope ('d', 't:<town>', 'v:<village>') and day,
-- one column per event metric (stats.go).
CREATE TABLE counts (
  scope TEXT NOT NULL,
  day   TEXT NOT NULL,
` + metricColumns() + `
  PRIMARY KEY (scope, day)
) WITHOUT ROWID;
-- A cadre's checkins of one village and day (the day counts once).
CREATE TABLE checkin_days (
  village_id TEXT NOT NULL,
  day        TEXT NOT NULL,
  cadre_id   TEXT NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (village_id, day, cadre_id)
) WITHOUT ROWID;
`,
	// 2: reviews, on-post days from the work, approvals, leave, reminders,
	// and the audit entry's client address and outcome.
	`
ALTER TABLE records ADD COLUMN review TEXT NOT NULL DEFAULT 'submitted';
CREATE INDEX records_returned ON records(village_id, type, deleted, at, id) WHERE review = 'returned';
ALTER TABLE counts ADD COLUMN onpost_days INTEGER NOT NULL DEFAULT 0;
-- Every checkin so far puts its cadre on post: its day counts as an on-post day.
UPDATE records SET doc = json_set(doc, '$.onPost', json('true'))
  WHERE type = 'report' AND kind = 'checkin' AND deleted = 0;
INSERT INTO checkin_days (village_id, day, cadre_id, n)
  SELECT village_id, day, 'p|' || cadre_id, n FROM checkin_days WHERE n > 0;
UPDATE counts SET onpost_days = checkins;
CREATE TABLE approvals (
  key      TEXT PRIMARY KEY,  -- level:scope:period
  level    TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  town_id  TEXT NOT NULL,
  period   TEXT NOT NULL,
  state    TEXT NOT NULL,
  doc      TEXT NOT NULL
);
CREATE INDEX approvals_town ON approvals(town_id, key);
CREATE INDEX approvals_state ON approvals(state);
CREATE TABLE leaves (
  id       TEXT PRIMARY KEY,
  cadre_id TEXT NOT NULL,
  state    TEXT NOT NULL,
  from_day TEXT NOT NULL,
  to_day   TEXT NOT NULL,
  doc      TEXT NOT NULL
);
CREATE INDEX leaves_cadre ON leaves(cadre_id, id);
CREATE INDEX leaves_state ON leaves(state, to_day);
CREATE TABLE notifications (
  id         TEXT PRIMARY KEY,
  key        TEXT NOT NULL UNIQUE, -- user|rule|item|day: once per item and day
  user_id    TEXT NOT NULL,
  rule       TEXT NOT NULL,
  item       TEXT NOT NULL,
  deliver_at INTEGER NOT NULL,
  read_at    INTEGER,              -- NULL while unread
  push       TEXT NOT NULL,
  push_next  INTEGER NOT NULL,
  doc        TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_item ON notifications(rule, item);
CREATE INDEX notifications_push ON notifications(push_next) WHERE push = 'pending';
CREATE TABLE wechat_grants (
  user_id     TEXT NOT NULL,
  template_id TEXT NOT NULL,
  n           INTEGER NOT NULL,
  PRIMARY KEY (user_id, template_id)
) WITHOUT ROWID;
CREATE INDEX wechat_bindings_user ON wechat_bindings(user_id);
-- Audit entries name the client's address and the outcome.
ALTER TABLE audit ADD COLUMN addr TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN outcome TEXT NOT NULL DEFAULT 'success';
-- The audit chain: each entry's place and seal (users.go). The entries of
-- version 1 are sealed when a store first opens this version.
ALTER TABLE audit ADD COLUMN seq INTEGER;
ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_seq ON audit(seq);
CREATE TABLE audit_chain (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  started_at INTEGER NOT NULL
);
`,
	// 3: a session keeps the factors it was opened with ('pwd' for those
	// opened before: a password); the audit chain keeps its head; the
	// store keeps what it did once (store_meta); complaints and suggestions.
	`
ALTER TABLE refresh_tokens ADD COLUMN factors TEXT NOT NULL DEFAULT 'pwd';
-- The audit chain's head after prunes of old entries (domain.AuditHead, JSON).
ALTER TABLE audit_chain ADD COLUMN head TEXT NOT NULL DEFAULT '';
-- Facts a store decides once, such as personal fields sealed (records.go).
CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- Complaints and suggestions (投诉建议), and their answers.
CREATE TABLE feedback (
  id      TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  state   TEXT NOT NULL,
  doc     TEXT NOT NULL
);
CREATE INDEX feedback_user ON feedback(user_id, id);
CREATE INDEX feedback_state ON feedback(state, id);
`,
}

// v1Metrics are the count columns schema version 1 creates.
var v1Metrics = []string{
	"leader_research_visits", "unit_research_visits", "committee_meetings", "meetings", "party_members_visited",
	"households_visited", "conflicts_identified", "disputes_resolved", "losses_recovered_fen", "reserve_candidates",
	"funds_fen", "checkins", "photos", "projects_started", "projects_completed", "disputes_open",
}

// schemaMetrics are the count columns of the current schema, in the order
// of domain.EventMetricNames: version 1's and those later migrations add.
// A metric added to the domain needs a migration that adds its column
// (TestSchemaHasEveryMetric fails until it exists).
var schemaMetrics = append(slices.Clip(v1Metrics), "onpost_days")

// metricColumns are version 1's count columns (never changes: version 1 has shipped).
func metricColumns() string {
	var b strings.Builder
	for _, m := range v1Metrics {
		fmt.Fprintf(&b, "  %s INTEGER NOT NULL DEFAULT 0,\n", m)
	}
	return b.String()
}

// SchemaVersion is the version this code writes.
func SchemaVersion() int { return len(migrations) }

// migrate applies the migrations the database lacks, each in its own
// transaction; a database newer than this code is refused.
func (s *Store) migrate(ctx context.Context) error {
	return migrateTo(ctx, s.wdb, len(migrations))
}

// migrateTo takes a database to version target (tests migrate step by step).
func migrateTo(ctx context.Context, db *sql.DB, target int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", translate(err))
	}
	if have > len(migrations) {
		return fmt.Errorf("the database is at schema version %d, newer than this zhucun (%d): run a newer zhucun", have, len(migrations))
	}
	for v := have; v < target; v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to %d: %w", v+1, translate(err))
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate to %d: %w", v+1, translate(err))
		}
		// PRAGMA takes no parameters; v+1 is our own number.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate to %d: %w", v+1, translate(err))
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to %d: %w", v+1, translate(err))
		}
	}
	return nil
}
