-- The device's and its members' private keys. The whole database is
-- encrypted by SQLCipher; `secret` holds the raw key bytes (an Ed25519 seed
-- or an X25519 scalar) and never leaves the vault except through an
-- explicit, audited export.
CREATE TABLE keys (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('signing', 'recipient')),
    label      TEXT NOT NULL,
    public     TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
