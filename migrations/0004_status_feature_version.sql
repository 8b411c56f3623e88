-- 0004: the feature_version every stored row of a series is at. A series
-- whose rows are older (a definition changed, FEATURES.md) or unknown
-- (NULL) has its stored history recomputed by its next run.
ALTER TABLE enrichment_status ADD COLUMN feature_version int4;
