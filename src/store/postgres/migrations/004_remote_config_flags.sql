-- Remote-configuration flags (served only by …/feature_flags/:key/remote_config) and payloads
-- encrypted at rest (Fernet, VEXIL_FLAGS_SECRET_KEYS), as PostHog's FeatureFlag model has them.
ALTER TABLE feature_flags
  ADD COLUMN is_remote_configuration boolean NOT NULL DEFAULT false,
  ADD COLUMN has_encrypted_payloads boolean NOT NULL DEFAULT false;
