-- When a key stops working (null: never). Set when it is made, or when it is rotated: the old key
-- keeps working until then, so whoever holds it can move to the new one without downtime.
ALTER TABLE api_keys ADD COLUMN expires_at text;
