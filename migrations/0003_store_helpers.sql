-- 0003: helpers of the store's upsert.
--
-- mde_fdiff(a, b): true when two feature values differ by more than the
-- rounding noise of a recomputation (1e-12 relative, 1e-15 absolute; the
-- contract's tolerance is 1e-9). A rerun that recomputes a Wilder recursion
-- from another warm-up start then writes nothing, while any real change of
-- a feature is written. A plain SQL function, so the planner inlines it.
CREATE FUNCTION mde_fdiff(a float8, b float8) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN a IS NULL OR b IS NULL THEN (a IS NULL) <> (b IS NULL)
        ELSE abs(a - b) > greatest(1e-12 * greatest(abs(a), abs(b)), 1e-15)
    END
$$;

-- The rank of a source for the same candle: a fallback source (spot for
-- futures, Yahoo for Polygon) never replaces a primary one, and a primary
-- one replaces a fallback value (recorded as a correction).
CREATE FUNCTION mde_source_rank(source text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN source IN ('binance-spot', 'yahoo') THEN 1 ELSE 2 END
$$;
