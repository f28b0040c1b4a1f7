-- Operations console sessions, held on the server so that signing out, or leaving the console
-- idle, ends a session everywhere, whatever a copied cookie says. The cookie carries the session's
-- id; only its SHA-256 is stored. Times are ISO 8601 UTC text, like the rest of the schema's
-- newer columns. No citizen's data: the key's id, and when the session was used.
CREATE TABLE console_sessions (
  sid_digest text PRIMARY KEY,
  key_id text NOT NULL,
  created_at text NOT NULL,
  last_seen_at text NOT NULL,
  expires_at text NOT NULL,
  ended_at text,
  -- signed-out, idle, expired or key-revoked
  end_reason text
);
