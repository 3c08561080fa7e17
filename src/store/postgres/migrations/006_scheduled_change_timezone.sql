-- Scheduled changes keep the time zone they recur in, captured from the project when they are
-- created (PostHog's ScheduledChange.timezone): a later change of the project's zone does not
-- move them. Rows made before this migration recurred in the project's current zone: they keep
-- it. `recurrence_anchor_at` is the scheduled_at a user last set; interval recurrences count
-- from it in local calendar units, so 09:00 stays 09:00 across DST and the 31st stays the 31st
-- in months that have one.
ALTER TABLE scheduled_changes ADD COLUMN timezone text;
ALTER TABLE scheduled_changes ADD COLUMN recurrence_anchor_at timestamptz;
UPDATE scheduled_changes sc SET timezone = p.timezone, recurrence_anchor_at = sc.scheduled_at
  FROM projects p WHERE p.id = sc.project_id;

-- Paused recurring changes (is_recurring false, recurrence kept: PostHog's pause) are never due:
-- leave them out of the index the claim walks.
DROP INDEX scheduled_changes_due;
CREATE INDEX scheduled_changes_due ON scheduled_changes (scheduled_at)
  WHERE executed_at IS NULL AND (is_recurring OR (recurrence_interval IS NULL AND cron_expression IS NULL));
