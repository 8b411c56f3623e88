-- 0007: the files taken from Binance's public data archive
-- (data.binance.vision): one row per file used, with the hash it was
-- verified against. A later run that finds another hash for the same URL
-- has met a re-publication: it keeps the old hash in previous_sha256 and
-- the time in republished_at; the rows of the file's range go through the
-- normal upsert, so changed OHLCV becomes a new revision with a
-- data_corrections row.
CREATE TABLE archive_files (
    url              text        PRIMARY KEY,
    kind             text        NOT NULL,  -- klines fundingRate metrics
    symbol           text        NOT NULL,
    interval         text        NOT NULL DEFAULT '',
    range_start      timestamptz NOT NULL,
    range_end        timestamptz NOT NULL,  -- exclusive
    size             bigint      NOT NULL,
    sha256           text        NOT NULL,
    rows             int         NOT NULL,
    first_used_at    timestamptz NOT NULL DEFAULT now(),
    last_verified_at timestamptz NOT NULL DEFAULT now(),
    previous_sha256  text,
    republished_at   timestamptz,
    run_id           bigint
);
CREATE INDEX archive_files_series_idx ON archive_files (symbol, kind, range_start);
