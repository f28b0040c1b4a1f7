-- When a release first entered shadow: the start of its minimum shadow window
-- (ENTITLE_SHADOW_MIN_MINUTES), before which it may not be promoted. Nullable, on a small table.
ALTER TABLE releases ADD COLUMN shadow_started_at text;
