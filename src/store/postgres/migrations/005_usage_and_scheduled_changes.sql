-- Flag usage per UTC day (issue 18): evaluations counted in memory by each node and flushed in
-- batches, plus $feature_flag_called events from the capture endpoints. Keyed by flag key, as
-- SDK events name flags by key. `value` is the variant key, or 'true' / 'false'.
CREATE TABLE flag_usage_daily (
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  flag_key text NOT NULL,
  day date NOT NULL,
  source text NOT NULL,
  value text NOT NULL,
  count bigint NOT NULL,
  last_called_at timestamptz NOT NULL,
  PRIMARY KEY (project_id, flag_key, day, source, value)
);

-- PostHog's ScheduledChange (posthog/models/scheduled_change.py), plus a 5-field cron schedule.
-- A due row (executed_at IS NULL AND scheduled_at <= now) is claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE scheduled_changes (
  id bigserial PRIMARY KEY,
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  record_id text NOT NULL,
  model_name text NOT NULL,
  payload jsonb NOT NULL,
  scheduled_at timestamptz NOT NULL,
  executed_at timestamptz,
  failure_reason text,
  failure_count integer NOT NULL DEFAULT 0,
  is_recurring boolean NOT NULL DEFAULT false,
  recurrence_interval text,
  cron_expression text,
  last_executed_at timestamptz,
  end_date timestamptz,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_changes_due ON scheduled_changes (scheduled_at) WHERE executed_at IS NULL;
CREATE INDEX scheduled_changes_project ON scheduled_changes (project_id, id DESC);
