//! Parsing and verifying signed organisation directories.
//!
//! Every input is first parsed as a published directory with
//! `SignedDirectory::from_json` and verified against a fixed root key: it
//! must fail or succeed, never panic. As the fuzzer cannot forge the root's
//! signature, that part covers the parser and the signature checks.
//!
//! The same input is then taken as a directory *body* and signed with the
//! fixed root key (or, for inputs of odd length, with an admin key the root
//! delegated to), so verification gets past the signature to the structure
//! checks. A body that verifies is then asked for the recipients of each of
//! its members and teams, and must still verify, to the same content, after
//! being written out with `to_json` and read back.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use satchel_seal::canonical;
use satchel_seal::directory::{Delegation, Held, SignedDirectory};
use satchel_seal::keys::{Purpose, SigningSecret};

const NOW: i64 = 1_796_083_200;

static ROOT: LazyLock<SigningSecret> = LazyLock::new(|| SigningSecret::from_bytes(&[0x07; 32]));
static ADMIN: LazyLock<SigningSecret> = LazyLock::new(|| SigningSecret::from_bytes(&[0x08; 32]));

fuzz_target!(|data: &[u8]| {
    if let Ok(published) = SignedDirectory::from_json(data) {
        let _ = published.verify(&ROOT.public(), None, NOW);
        let _ = published.verify(&ROOT.public(), Some(Held { version: 5 }), NOW);
    }
    signed_body(data);
});

fn signed_body(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(canonical) = canonical::canonicalize(&body) else {
        return;
    };
    let org_id = body.get("org_id").and_then(|v| v.as_str()).unwrap_or("");
    let (signer, delegation) = if data.len().is_multiple_of(2) {
        (&*ROOT, None)
    } else {
        let delegation = Delegation::issue(&ROOT, org_id, ADMIN.public(), NOW + 86_400)
            .expect("a delegation of plain values always encodes");
        (&*ADMIN, Some(delegation))
    };
    let published = SignedDirectory {
        signature: signer.sign(Purpose::Directory, &canonical),
        signer: signer.public(),
        delegation,
        body,
    };

    let Ok(directory) = published.verify(&ROOT.public(), None, NOW) else {
        return;
    };
    for member in &directory.members {
        let _ = directory.recipients_for(&member.id, NOW);
    }
    for team in &directory.teams {
        let _ = directory.recipients_for(&team.id, NOW);
    }
    let _ = directory.recipients_for("nobody", NOW);

    let json = published.to_json().expect("a verified directory encodes");
    let reread = SignedDirectory::from_json(&json).expect("a directory reads back its own output");
    let again = reread.verify(&ROOT.public(), None, NOW);
    match again {
        Ok(again) => assert!(again == directory, "the directory changed in a round trip"),
        Err(e) => panic!("a verified directory no longer verifies after to_json: {e}"),
    }
}
