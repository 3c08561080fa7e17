-- Listing a project's persons, newest first (GET /api/projects/:id/persons/ without distinct_id).
CREATE INDEX persons_project_created ON persons (project_id, created_at DESC, id DESC);
