-- Local accounts, mirrored from the keyring so records can name their
-- owner. The keyring stays the authority for signing in; this table holds
-- no secrets. `roles` is a JSON array such as ["intake"].
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    roles      TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
