-- A run's heartbeat: refreshed while it works (at most once a minute), so
-- that the next process can tell a run left 'running' by a process that
-- died (kill -9, a fatal database outage) and mark it 'interrupted'
-- (src/store/runs_stale.c, docs/DECISIONS.md "Stale runs").
ALTER TABLE enrichment_runs ADD COLUMN heartbeat_at timestamptz;
CREATE INDEX enrichment_runs_running_idx ON enrichment_runs (status)
    WHERE status = 'running';
