-- Client records. Every piece of client content (answers, file names and
-- bytes, received manifests) is sealed under its record's own content key,
-- which `content_key` holds wrapped under the owning account's key (see
-- crates/satchel-vault/src/crypto.rs). What stays in the clear, inside the
-- encrypted database, is ids, states, sizes and times. Times are UTC text
-- with milliseconds.

-- An interview in progress or finalized, saved answer by answer.
CREATE TABLE drafts (
    id                TEXT PRIMARY KEY NOT NULL,
    owner             TEXT NOT NULL REFERENCES accounts (id),
    interview_id      TEXT NOT NULL,
    interview_version TEXT NOT NULL,
    content_key       BLOB NOT NULL,
    progress          INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    state             TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'finalized')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX drafts_by_owner ON drafts (owner, updated_at);

-- One answer per field of a draft; `value` is sealed JSON.
CREATE TABLE answers (
    draft_id   TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    field      TEXT NOT NULL,
    value      BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (draft_id, field)
) STRICT, WITHOUT ROWID;

-- A submission received and opened on this device, re-encrypted to the
-- attorney's account; `manifest` is the sealed, verified manifest.
CREATE TABLE inbox (
    id            TEXT PRIMARY KEY NOT NULL,
    owner         TEXT NOT NULL REFERENCES accounts (id),
    submission_id TEXT NOT NULL,
    envelope_id   TEXT NOT NULL UNIQUE,
    content_key   BLOB NOT NULL,
    manifest      BLOB NOT NULL,
    sender_member TEXT NOT NULL,
    sender_device TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'reviewed')),
    received_at   TEXT NOT NULL
) STRICT;
CREATE INDEX inbox_by_owner ON inbox (owner, received_at);

-- A file attached to a draft's field or carried by a received submission.
-- `meta` is sealed JSON (file name, media type, SHA-256, scan result); the
-- bytes are sealed chunk by chunk in `attachment_chunks`. A row still
-- 'receiving' after a crash is an unfinished upload, removed on open.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY NOT NULL,
    owner       TEXT NOT NULL REFERENCES accounts (id),
    draft_id    TEXT REFERENCES drafts (id) ON DELETE CASCADE,
    inbox_id    TEXT REFERENCES inbox (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    content_key BLOB NOT NULL,
    meta        BLOB,
    size        INTEGER NOT NULL DEFAULT 0,
    chunks      INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL CHECK (state IN ('receiving', 'complete')),
    created_at  TEXT NOT NULL,
    CHECK ((draft_id IS NULL) <> (inbox_id IS NULL))
) STRICT;
CREATE INDEX attachments_by_draft ON attachments (draft_id);
CREATE INDEX attachments_by_inbox ON attachments (inbox_id);

CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (attachment_id, seq)
) STRICT;

-- A sealed envelope waiting to go, going, or gone. The envelope is already
-- encrypted to its recipients; its bytes are kept in chunks.
CREATE TABLE outbox (
    id            TEXT PRIMARY KEY NOT NULL,
    owner         TEXT NOT NULL REFERENCES accounts (id),
    draft_id      TEXT REFERENCES drafts (id) ON DELETE SET NULL,
    submission_id TEXT NOT NULL UNIQUE,
    envelope_id   TEXT NOT NULL UNIQUE,
    envelope_len  INTEGER NOT NULL,
    recipients    TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'uploading', 'uploaded', 'receipted')),
    upload_offset INTEGER NOT NULL DEFAULT 0,
    upload_url    TEXT,
    receipt       BLOB,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

CREATE TABLE outbox_chunks (
    outbox_id TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (outbox_id, seq)
) STRICT;

-- What remains of a deleted record: never its content.
CREATE TABLE tombstones (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    deleted_at TEXT NOT NULL,
    reason     TEXT NOT NULL
) STRICT;
