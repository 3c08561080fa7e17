-- Vexil initial schema. Runs unchanged on PostgreSQL and PGlite; names follow PostHog's models.

CREATE TABLE projects (
  id serial PRIMARY KEY,
  uuid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  name text NOT NULL,
  api_token text NOT NULL UNIQUE,
  secret_token_hash text,
  secret_token_backup_hash text,
  timezone text NOT NULL DEFAULT 'UTC',
  -- Bumped by every flag, cohort or group-type write, in the same transaction (snapshot invalidation).
  revision bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE personal_api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  label text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  scopes text[] NOT NULL DEFAULT '{}',
  scoped_projects integer[],
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);

CREATE TABLE feature_flags (
  id serial PRIMARY KEY,
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  key text NOT NULL,
  name text NOT NULL DEFAULT '',
  filters jsonb NOT NULL DEFAULT '{}',
  active boolean NOT NULL DEFAULT true,
  deleted boolean NOT NULL DEFAULT false,
  ensure_experience_continuity boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  tags text[] NOT NULL DEFAULT '{}',
  evaluation_runtime text NOT NULL DEFAULT 'all',
  evaluation_tags text[] NOT NULL DEFAULT '{}',
  bucketing_identifier text,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Key uniqueness counts only live flags: soft delete frees the key (spec §8.1).
CREATE UNIQUE INDEX feature_flags_project_key_live ON feature_flags (project_id, key) WHERE NOT deleted;
CREATE INDEX feature_flags_project_created ON feature_flags (project_id, created_at DESC, id DESC);

CREATE TABLE activity_log (
  id bigserial PRIMARY KEY,
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  scope text NOT NULL,
  item_id integer NOT NULL,
  activity text NOT NULL,
  actor text NOT NULL,
  before jsonb,
  after jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activity_log_item ON activity_log (project_id, scope, item_id, id DESC);

CREATE TABLE cohorts (
  id serial PRIMARY KEY,
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  is_static boolean NOT NULL DEFAULT false,
  filters jsonb,
  deleted boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cohorts_project_created ON cohorts (project_id, created_at DESC, id DESC);

-- Persons are always reached through person_distinct_ids or by id, so project_id carries neither
-- an index nor a foreign key: both would only slow bulk imports down (issue 4: 1M in < 60 s).
CREATE TABLE persons (
  id uuid PRIMARY KEY,
  project_id integer NOT NULL,
  properties jsonb NOT NULL DEFAULT '{}',
  is_identified boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  version bigint NOT NULL DEFAULT 0
);

-- The /flags hot lookup: (project, distinct_id) → person, one primary-key probe.
CREATE TABLE person_distinct_ids (
  project_id integer NOT NULL,
  distinct_id text NOT NULL,
  person_id uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, distinct_id)
);
CREATE INDEX person_distinct_ids_person ON person_distinct_ids (person_id);

CREATE TABLE cohort_people (
  cohort_id integer NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
  person_id uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
  PRIMARY KEY (cohort_id, person_id)
);
CREATE INDEX cohort_people_person ON cohort_people (person_id);

CREATE TABLE group_type_mappings (
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  group_type_index smallint NOT NULL CHECK (group_type_index BETWEEN 0 AND 4),
  name text NOT NULL,
  PRIMARY KEY (project_id, group_type_index),
  UNIQUE (project_id, name)
);

CREATE TABLE groups (
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  group_type_index smallint NOT NULL CHECK (group_type_index BETWEEN 0 AND 4),
  group_key text NOT NULL,
  properties jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  version bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, group_type_index, group_key)
);

-- Experience continuity (spec §6.5): PostHog's featureflaghashkeyoverride, keyed by person.
CREATE TABLE hash_key_overrides (
  project_id integer NOT NULL,
  person_id uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
  flag_key text NOT NULL,
  hash_key text NOT NULL,
  PRIMARY KEY (person_id, flag_key)
);
