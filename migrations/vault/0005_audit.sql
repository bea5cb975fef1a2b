-- The audit log: who did what to which record, and whether it worked. It
-- never holds content: no answers, no names, no file names, only ids,
-- action names, outcomes and times (UTC text with milliseconds).
--
-- Entries are numbered from 1 without gaps and hash-chained: `hash` is the
-- SHA-256 of a fixed tag, `prev_hash` (the previous entry's `hash`, or the
-- pruning anchor for the first entry kept) and the entry's canonical JSON
-- (see crates/satchel-vault/src/audit.rs and docs/FORMATS.md). An account
-- and member id are absent only for the system's own actions, such as
-- retention runs.
--
-- The triggers below refuse every UPDATE and DELETE except pruning. They
-- guard against mistakes, not against someone holding the database key:
-- such a person can drop them, which is why the chain and the signed
-- checkpoints exist and why `verify` checks them.

-- How far the log has been pruned. One row. `anchor_hash` is the hash of
-- entry `pruned_through` (which itself has been removed), or 32 zero bytes
-- while nothing has been pruned; the first entry kept chains from it.
CREATE TABLE audit_state (
    id             INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    pruned_through INTEGER NOT NULL DEFAULT 0 CHECK (pruned_through >= 0),
    anchor_hash    BLOB NOT NULL CHECK (length(anchor_hash) = 32)
) STRICT;
INSERT INTO audit_state (id, pruned_through, anchor_hash) VALUES (1, 0, zeroblob(32));

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
    at         TEXT NOT NULL CHECK (
                   at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'
               ),
    account_id TEXT,
    member_id  TEXT,
    action     TEXT NOT NULL,
    object_id  TEXT,
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    prev_hash  BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- The device's signature over the chain's head at some entry: Ed25519 over
-- "satchel-audit-checkpoint-v1" 0x00, `seq` as a big-endian u64, then
-- `hash`. `device_key` is the signing key's public half in base64, as the
-- key rotates. `seq` is a plain integer, not a reference: the checkpoint at
-- the pruning point outlives its entry so the anchor can still be checked.
CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    at         TEXT NOT NULL,
    device_key TEXT NOT NULL,
    signature  BLOB NOT NULL CHECK (length(signature) = 64)
) STRICT;

-- Entries go on the end only, each after the current head.
CREATE TRIGGER audit_log_append_only_in_order
BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT coalesce(
         (SELECT max(seq) FROM audit_log),
         (SELECT pruned_through FROM audit_state)
     ) + 1
  OR NEW.prev_hash IS NOT coalesce(
         (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1),
         (SELECT anchor_hash FROM audit_state)
     )
BEGIN
    SELECT RAISE(ABORT, 'audit entries must be appended in order, after the last one');
END;

CREATE TRIGGER audit_log_no_update
BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
WHEN OLD.seq > (SELECT pruned_through FROM audit_state)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only; only pruned entries can be deleted');
END;

-- A checkpoint must name an existing entry and carry that entry's hash.
CREATE TRIGGER audit_checkpoints_match_entry
BEFORE INSERT ON audit_checkpoints
WHEN NOT EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash)
BEGIN
    SELECT RAISE(ABORT, 'an audit checkpoint must name an entry and carry its hash');
END;

CREATE TRIGGER audit_checkpoints_no_update
BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Checkpoints below the pruning point may go; the one at it stays.
CREATE TRIGGER audit_checkpoints_no_delete
BEFORE DELETE ON audit_checkpoints
WHEN OLD.seq >= (SELECT pruned_through FROM audit_state)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only; only checkpoints below the pruning point can be deleted');
END;

CREATE TRIGGER audit_state_no_unpruning
BEFORE UPDATE ON audit_state
WHEN NEW.pruned_through < OLD.pruned_through
BEGIN
    SELECT RAISE(ABORT, 'audit pruning cannot be undone');
END;

-- Raising the pruning point needs a checkpoint there, whose hash becomes the
-- anchor; the anchor never changes on its own.
CREATE TRIGGER audit_state_prune_to_checkpoint
BEFORE UPDATE ON audit_state
WHEN NEW.id IS NOT OLD.id
  OR (NEW.pruned_through = OLD.pruned_through AND NEW.anchor_hash IS NOT OLD.anchor_hash)
  OR (NEW.pruned_through > OLD.pruned_through AND NOT EXISTS (
         SELECT 1 FROM audit_checkpoints
         WHERE seq = NEW.pruned_through AND hash = NEW.anchor_hash
     ))
BEGIN
    SELECT RAISE(ABORT, 'the audit log can only be pruned to a checkpointed entry, anchored at its hash');
END;

CREATE TRIGGER audit_state_no_delete
BEFORE DELETE ON audit_state
BEGIN
    SELECT RAISE(ABORT, 'the audit state cannot be deleted');
END;
