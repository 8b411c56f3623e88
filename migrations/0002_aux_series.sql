-- 0002: the auxiliary series the features join as of each candle. Open
-- interest and long/short history are only served for ~30 days, so these
-- tables are their only long-term home; aux_holes records what could no
-- longer be fetched.

CREATE TABLE funding_rates (
    symbol          text        NOT NULL,
    funding_time    timestamptz NOT NULL,
    funding_rate    numeric     NOT NULL,
    mark_price      numeric,
    source          text        NOT NULL,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, funding_time)
);

CREATE TABLE open_interest_hist (
    symbol          text        NOT NULL,
    period          text        NOT NULL,
    ts              timestamptz NOT NULL,
    sum_open_interest numeric   NOT NULL,
    source          text        NOT NULL,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, period, ts)
);

CREATE TABLE long_short_ratio_hist (
    symbol          text        NOT NULL,
    period          text        NOT NULL,
    ts              timestamptz NOT NULL,
    long_short_ratio numeric    NOT NULL,
    source          text        NOT NULL,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, period, ts)
);

CREATE TABLE aux_holes (
    symbol          text        NOT NULL,
    kind            text        NOT NULL,
    period          text        NOT NULL,
    hole_start      timestamptz NOT NULL,
    hole_end        timestamptz NOT NULL,
    run_id          bigint,
    detected_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, kind, period, hole_start)
);
