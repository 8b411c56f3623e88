-- 0009: a backfill chunk can be cancelled for good (`mdenrich cancel`);
-- `resume` and workers never claim it. Indexes for `mdenrich prune`,
-- which deletes log rows older than a cutoff.
ALTER TABLE backfill_state DROP CONSTRAINT IF EXISTS backfill_state_status_check;
ALTER TABLE backfill_state ADD CONSTRAINT backfill_state_status_check
    CHECK (status IN ('pending','running','done','failed','cancelled'));
CREATE INDEX IF NOT EXISTS enrichment_fetch_log_requested_idx
    ON enrichment_fetch_log (requested_at);
CREATE INDEX IF NOT EXISTS enrichment_compute_log_at_idx
    ON enrichment_compute_log (at);
CREATE INDEX IF NOT EXISTS enrichment_runs_started_idx
    ON enrichment_runs (started_at);
