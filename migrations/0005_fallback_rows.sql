-- 0005: the rows a fallback source stored (validation flag 8), found fast:
-- a run of a series starts at its earliest one, of any age, so that the
-- primary source replaces them over their whole range (docs/DECISIONS.md).
CREATE INDEX market_data_v2_fallback_idx ON market_data_v2
    (symbol, timeframe, open_time) WHERE validation_flags & 8 <> 0;
