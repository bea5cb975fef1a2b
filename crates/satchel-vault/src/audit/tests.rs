use std::collections::BTreeSet;

use rusqlite::types::Value;
use satchel_seal::canonical::canonicalize;

use super::*;

const SCHEMA: &str = include_str!("../../../../migrations/vault/0005_audit.sql");

/// 2026-12-03T20:01:34.123Z.
const T0: i64 = 1_796_328_094_123;

const ACTIONS: [&str; 5] = [
    "draft.finalize",
    "account.sign_in",
    "attachment.add",
    "retention.run",
    "outbox.send-1",
];

fn open() -> Connection {
    let conn = Connection::open_in_memory().expect("memory db");
    conn.execute_batch(SCHEMA).expect("audit schema");
    conn
}

fn device() -> SigningSecret {
    SigningSecret::from_bytes(&[7; 32])
}

fn keys() -> Vec<PublicKey> {
    vec![device().public()]
}

fn head_seq(conn: &Connection) -> u64 {
    match log_head(conn).expect("head") {
        Some((seq, _)) => seq,
        None => load_state(conn).expect("state").pruned_through,
    }
}

/// Appends `count` entries after the head, varying every field: some
/// without an actor, some without an object, every outcome.
fn fill(conn: &Connection, count: u64) -> Vec<Entry> {
    let first = head_seq(conn) + 1;
    (first..first + count)
        .map(|n| {
            let actor = Actor {
                account_id: format!("acct-{}", n % 3),
                member_id: format!("member-{}", n % 3),
            };
            let object = format!("draft-{n:04}");
            let outcome = [Outcome::Ok, Outcome::Refused, Outcome::Failed][(n % 3) as usize];
            append(
                conn,
                (n % 4 != 0).then_some(&actor),
                ACTIONS[(n % 5) as usize],
                (n % 5 != 0).then_some(object.as_str()),
                outcome,
                T0 + n as i64 * 1_000,
            )
            .expect("append")
        })
        .collect()
}

/// Drops every trigger, as someone holding the database key could.
fn drop_guards(conn: &Connection) {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("names");
    assert!(!names.is_empty());
    for name in names {
        conn.execute_batch(&format!("DROP TRIGGER {name}"))
            .expect("drop trigger");
    }
}

fn broken_message(result: Result<Report>) -> String {
    match result {
        Err(Error::AuditBroken(message)) => message,
        other => panic!("expected the log to fail verification, got {other:?}"),
    }
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .expect("count")
}

/// Swaps every column but `seq` between two entries.
fn swap(conn: &Connection, a: u64, b: u64) {
    const COLUMNS: [&str; 8] = [
        "at",
        "account_id",
        "member_id",
        "action",
        "object_id",
        "outcome",
        "prev_hash",
        "hash",
    ];
    let read = |seq: u64| -> Vec<Value> {
        conn.query_row(
            &format!(
                "SELECT {} FROM audit_log WHERE seq = ?1",
                COLUMNS.join(", ")
            ),
            [seq as i64],
            |row| (0..COLUMNS.len()).map(|i| row.get(i)).collect(),
        )
        .expect("read entry")
    };
    let write = |seq: u64, values: Vec<Value>| {
        let assignments: Vec<String> = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ?{}", i + 1))
            .collect();
        let mut params = values;
        params.push(Value::Integer(seq as i64));
        conn.execute(
            &format!(
                "UPDATE audit_log SET {} WHERE seq = ?{}",
                assignments.join(", "),
                COLUMNS.len() + 1
            ),
            rusqlite::params_from_iter(params),
        )
        .expect("write entry");
    };
    let (first, second) = (read(a), read(b));
    write(a, second);
    write(b, first);
}

#[test]
fn appended_entries_chain_and_verify() {
    let conn = open();
    let device = device();
    let first = fill(&conn, 10);
    assert_eq!(
        checkpoint(&conn, &device, T0).expect("checkpoint"),
        Some(10)
    );
    let second = fill(&conn, 15);
    assert_eq!(
        checkpoint(&conn, &device, T0).expect("checkpoint"),
        Some(25)
    );
    let entries: Vec<Entry> = first.into_iter().chain(second).collect();

    let mut prev = GENESIS;
    for (n, entry) in (1..).zip(&entries) {
        assert_eq!(entry.seq, n);
        assert_eq!(entry_hash(&prev, entry).expect("hash"), entry.hash);
        prev = entry.hash;
    }
    assert_eq!(entries[0].at, "2026-12-03T20:01:35.123Z");
    assert_eq!(entries[3].account_id, None);
    assert_eq!(entries[3].member_id, None);
    assert_eq!(entries[4].object_id, None);
    assert_eq!(entries[0].account_id.as_deref(), Some("acct-1"));

    let report = verify(&conn, &keys()).expect("verifies");
    assert_eq!(
        report,
        Report {
            entries: 25,
            checkpoints: 2,
            first_seq: 1,
            last_seq: 25,
            head: prev,
        }
    );
}

#[test]
fn an_empty_log_verifies_and_has_nothing_to_sign() {
    let conn = open();
    assert_eq!(
        verify(&conn, &keys()).expect("verifies"),
        Report {
            entries: 0,
            checkpoints: 0,
            first_seq: 1,
            last_seq: 0,
            head: GENESIS,
        }
    );
    assert_eq!(checkpoint(&conn, &device(), T0).expect("checkpoint"), None);
    assert!(!needs_checkpoint(&conn, 1).expect("needs"));
    assert!(entries_after(&conn, 0, 10).expect("entries").is_empty());
    assert!(export_json_lines(&conn, 0).expect("export").is_empty());
}

#[test]
fn append_refuses_anything_that_is_not_an_id_or_action_name() {
    let conn = open();
    let ok_actor = Actor {
        account_id: "acct-1".to_owned(),
        member_id: "member-1".to_owned(),
    };
    let long_action = "a".repeat(MAX_ACTION_CHARS + 1);
    for action in [
        "",
        "Draft.finalize",
        "draft finalize",
        "draft/finalize",
        "brouillon.finalisé",
        long_action.as_str(),
    ] {
        assert!(
            matches!(
                append(&conn, None, action, None, Outcome::Ok, T0),
                Err(Error::Invalid(_))
            ),
            "{action:?}"
        );
    }

    let long_id = "x".repeat(MAX_ID_CHARS + 1);
    for id in [
        "",
        "line\nbreak",
        "tab\there",
        "next\u{85}line",
        long_id.as_str(),
    ] {
        assert!(
            matches!(
                append(
                    &conn,
                    Some(&ok_actor),
                    "draft.open",
                    Some(id),
                    Outcome::Ok,
                    T0
                ),
                Err(Error::Invalid(_))
            ),
            "object id {id:?}"
        );
        let bad_account = Actor {
            account_id: id.to_owned(),
            ..ok_actor.clone()
        };
        let bad_member = Actor {
            member_id: id.to_owned(),
            ..ok_actor.clone()
        };
        for actor in [&bad_account, &bad_member] {
            let result = append(&conn, Some(actor), "draft.open", None, Outcome::Ok, T0);
            match result {
                Err(Error::Invalid(message)) => assert!(!message.contains(id) || id.is_empty()),
                other => panic!("actor id {id:?} was accepted: {other:?}"),
            }
        }
    }
    for at in [-1, i64::MIN, MAX_TIMESTAMP_MS + 1, i64::MAX] {
        assert!(matches!(
            append(&conn, None, "retention.run", None, Outcome::Ok, at),
            Err(Error::Invalid(_))
        ));
    }
    assert_eq!(count(&conn, "audit_log"), 0);

    let longest_action = "z".repeat(MAX_ACTION_CHARS);
    let longest_id = "é".repeat(MAX_ID_CHARS);
    append(
        &conn,
        Some(&ok_actor),
        &longest_action,
        Some(&longest_id),
        Outcome::Refused,
        MAX_TIMESTAMP_MS,
    )
    .expect("the longest values fit");
    append(&conn, None, "a", None, Outcome::Ok, 0).expect("the shortest values fit");
    verify(&conn, &keys()).expect("verifies");
}

#[test]
fn triggers_refuse_updates_deletes_and_inserts_out_of_order() {
    let conn = open();
    fill(&conn, 5);
    checkpoint(&conn, &device(), T0).expect("checkpoint");
    let refused = |sql: &str| -> String { conn.execute(sql, []).expect_err(sql).to_string() };

    for sql in [
        "UPDATE audit_log SET action = 'draft.delete' WHERE seq = 2",
        "UPDATE audit_log SET outcome = outcome",
        "UPDATE audit_checkpoints SET at = at",
    ] {
        assert!(
            refused(sql).contains("the audit log is append-only"),
            "{sql}"
        );
    }
    for sql in [
        "DELETE FROM audit_log WHERE seq = 5",
        "DELETE FROM audit_log",
    ] {
        assert!(
            refused(sql)
                .contains("the audit log is append-only; only pruned entries can be deleted"),
            "{sql}"
        );
    }
    assert!(
        refused("DELETE FROM audit_checkpoints")
            .contains("only checkpoints below the pruning point can be deleted")
    );
    assert!(refused("DELETE FROM audit_state").contains("the audit state cannot be deleted"));
    for sql in [
        "UPDATE audit_state SET anchor_hash = randomblob(32)",
        "UPDATE audit_state SET pruned_through = 3,
             anchor_hash = (SELECT hash FROM audit_log WHERE seq = 3)",
        "UPDATE audit_state SET pruned_through = 5, anchor_hash = randomblob(32)",
    ] {
        assert!(
            refused(sql).contains("the audit log can only be pruned to a checkpointed entry"),
            "{sql}"
        );
    }
    for sql in [
        "INSERT INTO audit_log SELECT 7, at, account_id, member_id, action, object_id,
             outcome, hash, hash FROM audit_log WHERE seq = 5",
        "INSERT INTO audit_log SELECT 6, at, account_id, member_id, action, object_id,
             outcome, prev_hash, hash FROM audit_log WHERE seq = 5",
    ] {
        assert!(
            refused(sql).contains("audit entries must be appended in order"),
            "{sql}"
        );
    }
    assert!(
        refused(
            "INSERT INTO audit_checkpoints (seq, hash, at, device_key, signature)
             VALUES (3, zeroblob(32), '2026-12-03T20:01:34.123Z', 'key', zeroblob(64))"
        )
        .contains("an audit checkpoint must name an entry and carry its hash")
    );

    assert_eq!(count(&conn, "audit_log"), 5);
    assert_eq!(verify(&conn, &keys()).expect("verifies").entries, 5);
}

#[test]
fn an_edited_field_is_detected() {
    for edit in [
        "action = 'draft.delete'",
        "at = '2026-12-03T20:01:35.000Z'",
        "account_id = NULL",
        "member_id = 'member-0'",
        "object_id = 'draft-9999'",
        "outcome = 'ok'",
    ] {
        let conn = open();
        fill(&conn, 12);
        checkpoint(&conn, &device(), T0).expect("checkpoint");
        drop_guards(&conn);
        conn.execute(&format!("UPDATE audit_log SET {edit} WHERE seq = 5"), [])
            .expect("edit");
        assert_eq!(
            broken_message(verify(&conn, &keys())),
            "entry 5 does not match its hash (edited?)",
            "{edit}"
        );
    }
}

#[test]
fn an_edited_hash_is_detected() {
    let conn = open();
    fill(&conn, 12);
    drop_guards(&conn);
    conn.execute(
        "UPDATE audit_log SET hash = randomblob(32) WHERE seq = 5",
        [],
    )
    .expect("edit");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entry 5 does not match its hash (edited?)"
    );

    // Making the next entry follow the forged hash does not help.
    conn.execute(
        "UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = 5)
         WHERE seq = 6",
        [],
    )
    .expect("edit");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entry 5 does not match its hash (edited?)"
    );
}

#[test]
fn a_rewritten_chain_is_caught_by_the_next_checkpoint() {
    let conn = open();
    fill(&conn, 12);
    checkpoint(&conn, &device(), T0).expect("checkpoint");
    drop_guards(&conn);
    conn.execute("UPDATE audit_log SET outcome = 'ok' WHERE seq = 5", [])
        .expect("edit");
    // Recompute every hash from the edit on, as a careful forger would.
    let mut prev = entries_after(&conn, 3, 1).expect("entry 4")[0].hash;
    for mut entry in entries_after(&conn, 4, 100).expect("entries") {
        entry.hash = entry_hash(&prev, &entry).expect("hash");
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            (&prev[..], &entry.hash[..], entry.seq as i64),
        )
        .expect("rewrite");
        prev = entry.hash;
    }
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entry 12 does not match its signed checkpoint (entries up to it rewritten?)"
    );
}

#[test]
fn removed_entries_are_detected() {
    let conn = open();
    fill(&conn, 12);
    drop_guards(&conn);
    conn.execute("DELETE FROM audit_log WHERE seq = 5", [])
        .expect("delete");
    assert_eq!(broken_message(verify(&conn, &keys())), "entry 5 is missing");
    conn.execute("DELETE FROM audit_log WHERE seq IN (4, 6)", [])
        .expect("delete");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entries 4 to 6 are missing"
    );

    // Closing the gap by renumbering breaks the chain instead.
    let conn = open();
    fill(&conn, 12);
    drop_guards(&conn);
    conn.execute("DELETE FROM audit_log WHERE seq = 5", [])
        .expect("delete");
    for seq in 6..=12 {
        conn.execute(
            "UPDATE audit_log SET seq = ?1 WHERE seq = ?2",
            (seq - 1, seq),
        )
        .expect("renumber");
    }
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entry 5 does not follow entry 4 (reordered or removed)"
    );

    let conn = open();
    fill(&conn, 3);
    drop_guards(&conn);
    conn.execute("DELETE FROM audit_log WHERE seq = 1", [])
        .expect("delete");
    assert_eq!(broken_message(verify(&conn, &keys())), "entry 1 is missing");
}

#[test]
fn swapped_entries_are_detected() {
    let conn = open();
    fill(&conn, 8);
    drop_guards(&conn);
    swap(&conn, 3, 4);
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entry 3 does not follow entry 2 (reordered or removed)"
    );

    let conn = open();
    fill(&conn, 8);
    drop_guards(&conn);
    swap(&conn, 1, 2);
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entry 1 does not start the chain (edited?)"
    );
}

#[test]
fn truncating_the_log_past_a_checkpoint_is_detected() {
    let conn = open();
    let device = device();
    fill(&conn, 10);
    checkpoint(&conn, &device, T0).expect("checkpoint");
    fill(&conn, 10);
    checkpoint(&conn, &device, T0).expect("checkpoint");
    drop_guards(&conn);
    conn.execute("DELETE FROM audit_log WHERE seq > 15", [])
        .expect("truncate");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "the log ends at entry 15 but a checkpoint covers entry 20 \
         (entries removed from the end)"
    );
    // Signing the shortened log is refused too.
    assert!(matches!(
        checkpoint(&conn, &device, T0),
        Err(Error::AuditBroken(_))
    ));

    conn.execute("DELETE FROM audit_log", []).expect("empty");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "the log is empty but a checkpoint covers entry 10 (entries removed)"
    );
}

#[test]
fn checkpoints_must_be_signed_by_a_device_key() {
    let conn = open();
    let device = device();
    let other = SigningSecret::from_bytes(&[9; 32]);
    fill(&conn, 4);
    checkpoint(&conn, &device, T0).expect("checkpoint");
    fill(&conn, 4);
    checkpoint(&conn, &other, T0).expect("checkpoint");

    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "checkpoint at entry 8 was signed by a key that is not one of this device's keys"
    );
    // After a key rotation both the old and the new key are trusted.
    let rotated = [device.public(), other.public()];
    assert_eq!(verify(&conn, &rotated).expect("verifies").checkpoints, 2);
    assert!(matches!(
        verify(&conn, &[]),
        Err(Error::AuditBroken(message)) if message.starts_with("checkpoint at entry 4 ")
    ));

    // Naming the device key over another key's signature is a bad
    // signature.
    drop_guards(&conn);
    conn.execute(
        "UPDATE audit_checkpoints SET device_key = ?1 WHERE seq = 8",
        [device.public().to_string()],
    )
    .expect("relabel");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "checkpoint at entry 8 has a bad signature"
    );
    conn.execute(
        "UPDATE audit_checkpoints SET device_key = 'not a key' WHERE seq = 8",
        [],
    )
    .expect("relabel");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "checkpoint at entry 8 names a malformed device key"
    );
}

#[test]
fn a_forged_signature_byte_is_detected() {
    for byte in [0, 17, 63] {
        let conn = open();
        fill(&conn, 10);
        checkpoint(&conn, &device(), T0).expect("checkpoint");
        drop_guards(&conn);
        let mut signature: Vec<u8> = conn
            .query_row(
                "SELECT signature FROM audit_checkpoints WHERE seq = 10",
                [],
                |row| row.get(0),
            )
            .expect("signature");
        signature[byte] ^= 0x01;
        conn.execute(
            "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = 10",
            [&signature],
        )
        .expect("forge");
        assert_eq!(
            broken_message(verify(&conn, &keys())),
            "checkpoint at entry 10 has a bad signature"
        );
    }

    // A checkpoint re-pointed at another hash no longer matches its entry.
    let conn = open();
    fill(&conn, 10);
    checkpoint(&conn, &device(), T0).expect("checkpoint");
    drop_guards(&conn);
    conn.execute(
        "UPDATE audit_checkpoints SET hash = randomblob(32) WHERE seq = 10",
        [],
    )
    .expect("forge");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entry 10 does not match its signed checkpoint (entries up to it rewritten?)"
    );
}

#[test]
fn checkpoint_signs_the_head_once() {
    let conn = open();
    let device = device();
    fill(&conn, 3);
    assert_eq!(checkpoint(&conn, &device, T0).expect("checkpoint"), Some(3));
    assert_eq!(checkpoint(&conn, &device, T0).expect("checkpoint"), None);

    let (hash, at, device_key, signature): (Vec<u8>, String, String, Vec<u8>) = conn
        .query_row(
            "SELECT hash, at, device_key, signature FROM audit_checkpoints WHERE seq = 3",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .expect("checkpoint row");
    assert_eq!(at, "2026-12-03T20:01:34.123Z");
    assert_eq!(device_key, device.public().to_string());
    let mut message = b"satchel-audit-checkpoint-v1\0".to_vec();
    message.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
    message.extend_from_slice(&hash);
    let signature: [u8; 64] = signature.try_into().expect("64 bytes");
    device
        .public()
        .verify(
            Purpose::AuditCheckpoint,
            &message,
            &Signature::from_bytes(signature),
        )
        .expect("the signature covers the documented message");

    // A damaged stretch since the last checkpoint is never signed over.
    fill(&conn, 3);
    drop_guards(&conn);
    conn.execute(
        "UPDATE audit_log SET action = 'draft.delete' WHERE seq = 5",
        [],
    )
    .expect("edit");
    assert!(matches!(
        checkpoint(&conn, &device, T0),
        Err(Error::AuditBroken(message)) if message == "entry 5 does not match its hash (edited?)"
    ));
    assert!(matches!(
        checkpoint(&conn, &device, -5),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn needs_checkpoint_counts_the_entries_since_the_last_one() {
    let conn = open();
    let device = device();
    assert!(!needs_checkpoint(&conn, 1).expect("needs"));
    fill(&conn, 4);
    assert!(!needs_checkpoint(&conn, 5).expect("needs"));
    assert!(needs_checkpoint(&conn, 4).expect("needs"));
    assert!(needs_checkpoint(&conn, 0).expect("needs"));
    checkpoint(&conn, &device, T0).expect("checkpoint");
    assert!(!needs_checkpoint(&conn, 1).expect("needs"));
    assert!(!needs_checkpoint(&conn, 0).expect("needs"));
    fill(&conn, 2);
    assert!(needs_checkpoint(&conn, 2).expect("needs"));
    assert!(!needs_checkpoint(&conn, 3).expect("needs"));

    checkpoint(&conn, &device, T0).expect("checkpoint");
    prune_through(&conn, 6).expect("prune");
    assert!(!needs_checkpoint(&conn, 1).expect("needs"));
    fill(&conn, 1);
    assert!(needs_checkpoint(&conn, 1).expect("needs"));
}

#[test]
fn pruning_to_a_checkpoint_keeps_the_rest_verifiable() {
    let conn = open();
    let device = device();
    for _ in 0..3 {
        fill(&conn, 10);
        checkpoint(&conn, &device, T0).expect("checkpoint");
    }
    let tail = fill(&conn, 5);

    assert_eq!(prune_through(&conn, 20).expect("prune"), 20);
    assert_eq!(count(&conn, "audit_log"), 15);
    assert_eq!(count(&conn, "audit_checkpoints"), 2);
    assert_eq!(
        verify(&conn, &keys()).expect("verifies"),
        Report {
            entries: 15,
            checkpoints: 2,
            first_seq: 21,
            last_seq: 35,
            head: tail[4].hash,
        }
    );
    assert_eq!(entries_after(&conn, 0, 1).expect("entries")[0].seq, 21);

    // Pruning again to the same point, or below it, removes nothing.
    assert_eq!(prune_through(&conn, 20).expect("prune"), 0);
    assert_eq!(prune_through(&conn, 5).expect("prune"), 0);

    // New entries continue the chain.
    let next = fill(&conn, 1);
    assert_eq!(next[0].seq, 36);
    checkpoint(&conn, &device, T0).expect("checkpoint");

    // Pruning everything leaves an empty log that still verifies and
    // continues from the anchor.
    assert_eq!(prune_through(&conn, 36).expect("prune"), 16);
    assert_eq!(
        verify(&conn, &keys()).expect("verifies"),
        Report {
            entries: 0,
            checkpoints: 1,
            first_seq: 37,
            last_seq: 36,
            head: next[0].hash,
        }
    );
    assert_eq!(checkpoint(&conn, &device, T0).expect("checkpoint"), None);
    let after = fill(&conn, 2);
    assert_eq!(after[0].seq, 37);
    let report = verify(&conn, &keys()).expect("verifies");
    assert_eq!(
        (report.entries, report.first_seq, report.last_seq),
        (2, 37, 38)
    );
}

#[test]
fn pruning_needs_a_checkpoint_and_cannot_be_undone() {
    let conn = open();
    fill(&conn, 20);
    checkpoint(&conn, &device(), T0).expect("checkpoint");
    for seq in [15, 25] {
        assert!(
            matches!(prune_through(&conn, seq), Err(Error::Invalid(_))),
            "{seq}"
        );
    }
    assert_eq!(count(&conn, "audit_log"), 20);
    verify(&conn, &keys()).expect("verifies");

    fill(&conn, 5);
    prune_through(&conn, 20).expect("prune");
    for sql in [
        "UPDATE audit_state SET pruned_through = 5",
        "UPDATE audit_state SET pruned_through = 0, anchor_hash = zeroblob(32)",
    ] {
        let error = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(error.contains("audit pruning cannot be undone"), "{error}");
    }
    verify(&conn, &keys()).expect("verifies");
}

#[test]
fn a_tampered_pruning_point_is_detected() {
    let pruned = || {
        let conn = open();
        fill(&conn, 10);
        checkpoint(&conn, &device(), T0).expect("checkpoint");
        fill(&conn, 5);
        prune_through(&conn, 10).expect("prune");
        drop_guards(&conn);
        conn
    };

    let conn = pruned();
    conn.execute("UPDATE audit_state SET anchor_hash = randomblob(32)", [])
        .expect("edit");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "the pruning anchor does not match the checkpoint at entry 10"
    );

    let conn = pruned();
    conn.execute("DELETE FROM audit_checkpoints", [])
        .expect("delete");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "the log was pruned through entry 10 but no checkpoint there signs the anchor"
    );

    let conn = pruned();
    conn.execute(
        "UPDATE audit_log SET prev_hash = randomblob(32) WHERE seq = 11",
        [],
    )
    .expect("edit");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "the first entry does not follow the pruning anchor"
    );

    let conn = pruned();
    conn.execute("UPDATE audit_state SET pruned_through = 12", [])
        .expect("edit");
    assert!(matches!(verify(&conn, &keys()), Err(Error::AuditBroken(_))));

    let conn = pruned();
    conn.execute(
        "UPDATE audit_state SET pruned_through = 0, anchor_hash = zeroblob(32)",
        [],
    )
    .expect("edit");
    assert_eq!(
        broken_message(verify(&conn, &keys())),
        "entries 1 to 10 are missing"
    );
}

#[test]
fn export_lines_are_canonical_json_with_only_the_listed_fields() {
    let conn = open();
    let entries = fill(&conn, 12);
    let text = String::from_utf8(export_json_lines(&conn, 0).expect("export")).expect("utf-8");
    assert!(text.ends_with('\n'));
    let expected: BTreeSet<&str> = [
        "seq",
        "at",
        "account_id",
        "member_id",
        "action",
        "object_id",
        "outcome",
        "prev_hash",
        "hash",
    ]
    .into();

    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), entries.len());
    let mut prev = hex(&GENESIS);
    for (line, entry) in lines.iter().zip(&entries) {
        let value: serde_json::Value = serde_json::from_str(line).expect("json");
        let object = value.as_object().expect("an object");
        let names: BTreeSet<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(names, expected);
        assert_eq!(canonicalize(&value).expect("canonical"), line.as_bytes());

        assert_eq!(value["seq"], entry.seq);
        assert_eq!(value["at"], entry.at);
        assert_eq!(value["account_id"], serde_json::json!(entry.account_id));
        assert_eq!(value["member_id"], serde_json::json!(entry.member_id));
        assert_eq!(value["action"], entry.action);
        assert_eq!(value["object_id"], serde_json::json!(entry.object_id));
        assert_eq!(value["outcome"], serde_json::json!(entry.outcome));
        assert_eq!(value["prev_hash"], prev);
        assert_eq!(value["hash"], hex(&entry.hash));
        prev = hex(&entry.hash);
    }

    let later = String::from_utf8(export_json_lines(&conn, 9).expect("export")).expect("utf-8");
    let first: serde_json::Value =
        serde_json::from_str(later.lines().next().expect("a line")).expect("json");
    assert_eq!(later.lines().count(), 3);
    assert_eq!(first["seq"], 10);
    assert_eq!(first["prev_hash"], hex(&entries[8].hash));
    assert!(export_json_lines(&conn, 12).expect("export").is_empty());
    assert!(
        export_json_lines(&conn, u64::MAX)
            .expect("export")
            .is_empty()
    );
}

#[test]
fn entries_page_through_the_log_and_serialize_hashes_as_hex() {
    let conn = open();
    let entries = fill(&conn, 10);
    assert_eq!(entries_after(&conn, 0, 4).expect("page"), entries[..4]);
    assert_eq!(entries_after(&conn, 4, 100).expect("page"), entries[4..]);
    assert!(entries_after(&conn, 10, 5).expect("page").is_empty());
    assert!(entries_after(&conn, 0, 0).expect("page").is_empty());
    assert!(entries_after(&conn, u64::MAX, 5).expect("page").is_empty());

    let value = serde_json::to_value(&entries[1]).expect("json");
    assert_eq!(value["hash"], hex(&entries[1].hash));
    assert_eq!(value["hash"].as_str().map(str::len), Some(64));
    assert_eq!(value["outcome"], "failed");
    assert_eq!(value["object_id"], "draft-0002");
}

#[test]
fn the_table_holds_only_the_listed_columns() {
    let conn = open();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('audit_log') ORDER BY cid")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("columns");
    assert_eq!(columns.join(", "), ENTRY_COLUMNS);
}

#[test]
fn the_entry_hash_layout_is_stable() {
    let entry = Entry {
        seq: 1,
        at: "2026-12-03T20:01:34.123Z".to_owned(),
        account_id: None,
        member_id: None,
        action: "retention.run".to_owned(),
        object_id: None,
        outcome: Outcome::Ok,
        hash: GENESIS,
    };
    let mut preimage = b"satchel-audit-v1\0".to_vec();
    preimage.extend_from_slice(&[0; 32]);
    preimage.extend_from_slice(
        br#"{"account_id":null,"action":"retention.run","at":"2026-12-03T20:01:34.123Z","member_id":null,"object_id":null,"outcome":"ok","seq":1}"#,
    );
    let expected: [u8; 32] = Sha256::digest(&preimage).into();
    assert_eq!(entry_hash(&GENESIS, &entry).expect("hash"), expected);
}

#[test]
fn timestamps_format_as_rfc3339_utc_with_milliseconds() {
    for (ms, text) in [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (68_169_600_000, "1972-02-29T00:00:00.000Z"),
        (946_684_799_999, "1999-12-31T23:59:59.999Z"),
        (946_684_800_000, "2000-01-01T00:00:00.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (951_868_800_000, "2000-03-01T00:00:00.000Z"),
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
        (1_796_083_200_123, "2026-12-01T00:00:00.123Z"),
        (T0, "2026-12-03T20:01:34.123Z"),
        (2_147_483_648_000, "2038-01-19T03:14:08.000Z"),
        (4_107_456_000_000, "2100-02-28T00:00:00.000Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        (MAX_TIMESTAMP_MS, "9999-12-31T23:59:59.999Z"),
    ] {
        assert_eq!(format_timestamp(ms).expect("in range"), text, "{ms}");
    }
}

#[test]
fn timestamps_out_of_range_are_refused_not_clamped() {
    for ms in [-1, -86_400_000, i64::MIN, MAX_TIMESTAMP_MS + 1, i64::MAX] {
        assert!(
            matches!(format_timestamp(ms), Err(Error::Invalid(_))),
            "{ms}"
        );
    }
}

#[test]
fn civil_dates_match_a_day_by_day_count() {
    let is_leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = |y: i64, m: i64| match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let (mut year, mut month, mut day) = (1970, 1, 1);
    for days in 0..=MAX_TIMESTAMP_MS / MS_PER_DAY {
        assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
        day += 1;
        if day > month_days(year, month) {
            day = 1;
            month += 1;
            if month > 12 {
                month = 1;
                year += 1;
            }
        }
    }
    assert_eq!((year, month, day), (10_000, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(-719_468), (0, 3, 1));
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// A byte value other than zero, to flip bits with.
    fn mask(&mut self) -> u8 {
        (self.below(255) + 1) as u8
    }
}

#[test]
fn any_single_byte_flip_in_an_entry_fails_verification() {
    const COLUMNS: [&str; 9] = [
        "seq",
        "at",
        "account_id",
        "member_id",
        "action",
        "object_id",
        "outcome",
        "prev_hash",
        "hash",
    ];
    const ENTRIES: u64 = 12;
    let mut rng = SplitMix(0x5a7c_4e1a_0d17_2026);
    let mut flips = 0;
    let mut attempts = 0;
    while flips < 200 {
        attempts += 1;
        assert!(attempts < 2_000, "too few flips could be applied");
        let conn = open();
        fill(&conn, ENTRIES);
        checkpoint(&conn, &device(), T0).expect("checkpoint");
        drop_guards(&conn);
        conn.pragma_update(None, "ignore_check_constraints", true)
            .expect("pragma");

        let seq = rng.below(ENTRIES) as i64 + 1;
        let column = COLUMNS[rng.below(COLUMNS.len() as u64) as usize];
        let applied = if column == "seq" {
            let shift = 8 * rng.below(8);
            let flipped = seq ^ (i64::from(rng.mask()) << shift);
            conn.execute(
                "UPDATE audit_log SET seq = ?1 WHERE seq = ?2",
                (flipped, seq),
            )
            .is_ok()
        } else {
            let stored: Option<Vec<u8>> = conn
                .query_row(
                    &format!("SELECT CAST({column} AS BLOB) FROM audit_log WHERE seq = ?1"),
                    [seq],
                    |row| row.get(0),
                )
                .expect("read column");
            match stored {
                Some(mut bytes) if !bytes.is_empty() => {
                    let at = rng.below(bytes.len() as u64) as usize;
                    bytes[at] ^= rng.mask();
                    let value = if column.ends_with("hash") {
                        "?1"
                    } else {
                        "CAST(?1 AS TEXT)"
                    };
                    conn.execute(
                        &format!("UPDATE audit_log SET {column} = {value} WHERE seq = ?2"),
                        (&bytes, seq),
                    )
                    .expect("flip");
                    true
                }
                _ => false,
            }
        };
        if !applied {
            continue;
        }
        let result = verify(&conn, &keys());
        assert!(
            matches!(result, Err(Error::AuditBroken(_))),
            "flipping a byte of {column} in entry {seq} went unnoticed: {result:?}"
        );
        flips += 1;
    }
}
