-- 0001: the tables of docs/SCHEMA.md. All times are timestamptz (UTC).

CREATE TABLE market_data_v2 (
    symbol              text        NOT NULL,
    timeframe           text        NOT NULL
        CHECK (timeframe IN ('1m','5m','15m','30m','1h','4h','1d')),
    open_time           timestamptz NOT NULL,
    asset_class         text        NOT NULL
        CHECK (asset_class IN ('crypto','equity')),
    source              text        NOT NULL
        CHECK (source IN ('binance','binance-spot','yahoo','polygon','replay')),
    open                numeric     NOT NULL CHECK (open > 0),
    high                numeric     NOT NULL CHECK (high > 0),
    low                 numeric     NOT NULL CHECK (low > 0),
    close               numeric     NOT NULL CHECK (close > 0),
    volume              numeric     CHECK (volume >= 0),
    quote_volume        numeric     CHECK (quote_volume >= 0),
    taker_buy_base      numeric     CHECK (taker_buy_base >= 0),
    taker_buy_quote     numeric     CHECK (taker_buy_quote >= 0),
    trades              bigint,
    return_1h               float8,
    return_1d               float8,
    log_return              float8,
    volatility_20           float8,
    volatility_50           float8,
    atr_14                  float8,
    rsi_14                  float8,
    sma_20                  float8,
    sma_50                  float8,
    rolling_volume_20       float8,
    volume_spike_score      float8,
    trend_direction         int2 CHECK (trend_direction BETWEEN -1 AND 1),
    market_structure        int2 CHECK (market_structure BETWEEN -1 AND 1),
    delta                   float8,
    buy_sell_ratio          float8,
    funding_rate            float8,
    funding_rate_percentile float8,
    open_interest           float8,
    open_interest_change    float8,
    long_short_ratio        float8,
    liquidation_intensity   float8,
    exchange_inflow         float8,
    validation_flags    int4        NOT NULL DEFAULT 0,
    quality_score       float8      CHECK (quality_score BETWEEN 0 AND 1),
    feature_version     int4        NOT NULL,
    revision            int4        NOT NULL DEFAULT 1 CHECK (revision >= 1),
    run_id              bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, timeframe, open_time),
    CHECK (low <= least(open, close) AND greatest(open, close) <= high)
) WITH (fillfactor = 90);

CREATE TABLE enrichment_runs (
    run_id          bigserial   PRIMARY KEY,
    kind            text        NOT NULL
        CHECK (kind IN ('hourly','nightly','manual','backfill','worker')),
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text        NOT NULL DEFAULT 'running'
        CHECK (status IN ('running','ok','partial','failed','interrupted')),
    series_total    int         NOT NULL DEFAULT 0,
    series_failed   int         NOT NULL DEFAULT 0,
    rows_fetched    bigint      NOT NULL DEFAULT 0,
    rows_written    bigint      NOT NULL DEFAULT 0,
    rows_unchanged  bigint      NOT NULL DEFAULT 0,
    rows_rejected   bigint      NOT NULL DEFAULT 0,
    corrections     bigint      NOT NULL DEFAULT 0,
    host            text,
    pid             int,
    args            text,
    error           text
);
CREATE INDEX enrichment_runs_started_idx ON enrichment_runs (started_at);

CREATE TABLE backfill_jobs (
    job_id          bigserial   PRIMARY KEY,
    symbols         text[]      NOT NULL,
    timeframe       text        NOT NULL,
    asset_class     text        NOT NULL,
    source          text        NOT NULL,
    range_start     timestamptz NOT NULL,
    range_end       timestamptz NOT NULL,
    chunk_ms        bigint      NOT NULL CHECK (chunk_ms > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_run_id  bigint
);

CREATE TABLE backfill_state (
    job_id           bigint      NOT NULL REFERENCES backfill_jobs,
    chunk_no         int         NOT NULL,
    symbol           text        NOT NULL,
    timeframe        text        NOT NULL,
    asset_class      text        NOT NULL,
    source           text        NOT NULL,
    range_start      timestamptz NOT NULL,
    range_end        timestamptz NOT NULL,
    cursor           timestamptz,
    status           text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending','running','done','failed')),
    attempts         int         NOT NULL DEFAULT 0,
    last_error       text,
    lease_owner      text,
    lease_expires_at timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, chunk_no),
    CHECK (range_start < range_end)
);
-- Workers look for claimable chunks: pending, or running with a dead lease.
CREATE INDEX backfill_state_claim_idx ON backfill_state (job_id, chunk_no)
    WHERE status IN ('pending', 'running');

CREATE TABLE data_corrections (
    correction_id   bigserial   PRIMARY KEY,
    symbol          text        NOT NULL,
    timeframe       text        NOT NULL,
    open_time       timestamptz NOT NULL,
    old_revision    int4        NOT NULL,
    new_revision    int4        NOT NULL,
    old_source      text,
    source          text        NOT NULL,
    old_open numeric, new_open numeric,
    old_high numeric, new_high numeric,
    old_low numeric,  new_low numeric,
    old_close numeric, new_close numeric,
    old_volume numeric, new_volume numeric,
    old_quote_volume numeric, new_quote_volume numeric,
    old_taker_buy_base numeric, new_taker_buy_base numeric,
    old_taker_buy_quote numeric, new_taker_buy_quote numeric,
    old_trades bigint, new_trades bigint,
    run_id          bigint,
    detected_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_corrections_series_idx
    ON data_corrections (symbol, timeframe, open_time);

-- reasons: the names of every hard check the candle failed (see
-- docs/SCHEMA.md); raw: the values exactly as received.
CREATE TABLE rejected_candles (
    symbol          text        NOT NULL,
    timeframe       text        NOT NULL,
    open_time       timestamptz NOT NULL,
    source          text        NOT NULL,
    raw             jsonb       NOT NULL,
    reasons         text[]      NOT NULL,
    run_id          bigint,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    times_seen      int         NOT NULL DEFAULT 1,
    PRIMARY KEY (symbol, timeframe, open_time, source)
);

CREATE TABLE enrichment_fetch_log (
    fetch_id        bigserial   PRIMARY KEY,
    run_id          bigint,
    source          text        NOT NULL,
    endpoint        text        NOT NULL,
    symbol          text,
    params          text,
    http_status     int,
    rows            int,
    bytes           bigint,
    latency_ms      int,
    attempt         int         NOT NULL DEFAULT 1,
    error           text,
    requested_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrichment_fetch_log_run_idx ON enrichment_fetch_log (run_id);
CREATE INDEX enrichment_fetch_log_time_idx ON enrichment_fetch_log (requested_at);

CREATE TABLE enrichment_compute_log (
    compute_id      bigserial   PRIMARY KEY,
    run_id          bigint,
    symbol          text        NOT NULL,
    timeframe       text        NOT NULL,
    rows_in         int         NOT NULL,
    rows_written    int         NOT NULL,
    rows_unchanged  int         NOT NULL,
    duration_ms     int         NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrichment_compute_log_run_idx ON enrichment_compute_log (run_id);

CREATE TABLE data_quality_metrics (
    symbol          text        NOT NULL,
    timeframe       text        NOT NULL,
    day             date        NOT NULL,
    expected        int         NOT NULL,
    received        int         NOT NULL,
    valid           int         NOT NULL,
    rejected        int         NOT NULL,
    duplicates      int         NOT NULL,
    gaps            int         NOT NULL,
    suspicious      int         NOT NULL,
    corrections     int         NOT NULL,
    completeness    float8,
    quality_score   float8,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, timeframe, day)
);
CREATE INDEX data_quality_metrics_worst_idx
    ON data_quality_metrics (quality_score, day);

CREATE TABLE enrichment_status (
    symbol          text        NOT NULL,
    timeframe       text        NOT NULL,
    asset_class     text        NOT NULL,
    source          text,
    first_open_time timestamptz,
    last_open_time  timestamptz,
    rows_total      bigint      NOT NULL DEFAULT 0,
    last_run_id     bigint,
    last_run_at     timestamptz,
    last_status     text,
    last_error      text,
    aux_holes       int         NOT NULL DEFAULT 0,
    PRIMARY KEY (symbol, timeframe)
);
