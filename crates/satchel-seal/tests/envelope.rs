//! Sealing and opening whole envelopes, and every way of tampering with
//! one that must be refused without releasing anything.

mod common;

use std::io::{self, Read};

use common::{NOW, Org, manifest, org};
use satchel_seal::Error;
use satchel_seal::age::Identity;
use satchel_seal::envelope::{Manifest, Opened, Sink, open, seal};
use satchel_seal::keys::SigningSecret;
use sha2::{Digest, Sha256};

/// Collects attachments in memory and records whether it was committed.
#[derive(Default)]
struct MemorySink {
    attachments: Vec<Vec<u8>>,
}

impl Sink for MemorySink {
    type Committed = Vec<Vec<u8>>;

    fn write(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        if self.attachments.len() <= index {
            self.attachments.resize(index + 1, Vec::new());
        }
        self.attachments[index].extend_from_slice(bytes);
        Ok(())
    }

    fn commit(mut self, opened: &Opened) -> io::Result<Self::Committed> {
        // Empty attachments never saw a write.
        self.attachments
            .resize(opened.manifest.attachments.len(), Vec::new());
        Ok(self.attachments)
    }
}

fn seal_to(org: &Org, manifest: Manifest, attachments: &[&[u8]], assignee: &str) -> Vec<u8> {
    let recipients = org
        .directory
        .recipients_for(assignee, NOW)
        .expect("recipients");
    let mut streams: Vec<&[u8]> = attachments.to_vec();
    let mut readers: Vec<&mut (dyn Read + Send)> = streams
        .iter_mut()
        .map(|s| s as &mut (dyn Read + Send))
        .collect();
    let (_, bytes) = seal(
        manifest,
        &mut readers,
        &org.worker_device,
        &recipients,
        Vec::new(),
    )
    .expect("seal");
    bytes
}

fn open_with(
    org: &Org,
    envelope: &[u8],
    identity: &Identity,
) -> Result<(Opened, Vec<Vec<u8>>), Error> {
    let identities = [Identity::from_bytes(*identity.to_bytes())];
    open(envelope, &identities, &org.directory, MemorySink::default())
}

#[test]
fn a_sealed_submission_opens_for_the_attorney_and_the_escrow_key() {
    let org = org();
    let letter = b"%PDF-1.7 eviction notice".repeat(5000);
    let photo = vec![0xabu8; 70_000];
    let envelope = seal_to(
        &org,
        manifest(&[("notice.pdf", &letter), ("photo.jpg", &photo)]),
        &[&letter, &photo],
        "m-attorney",
    );

    let (opened, attachments) = open_with(&org, &envelope, &org.attorney_identity).expect("open");
    assert_eq!(opened.manifest.answers["tenant_name"], "Maria Example");
    assert_eq!(attachments, vec![letter.clone(), photo.clone()]);
    assert_eq!(opened.manifest.recipients.len(), 2, "attorney and escrow");

    let (by_escrow, _) = open_with(&org, &envelope, &org.escrow_identity).expect("escrow opens");
    assert_eq!(by_escrow.envelope_id, opened.envelope_id);
}

#[test]
fn the_envelope_id_is_the_hash_formats_md_describes() {
    let org = org();
    let attachment = vec![0x5au8; 90_000];
    let recipients = org
        .directory
        .recipients_for("m-attorney", NOW)
        .expect("recipients");
    let (sealed, envelope) = seal(
        manifest(&[("a.pdf", &attachment)]),
        &mut [&mut &attachment[..]],
        &org.worker_device,
        &recipients,
        Vec::new(),
    )
    .expect("seal");

    // Recompute it from the file: header and nonce as stored, then the
    // start of the inner layer as the plain age layer decrypts it.
    let mac_line = envelope
        .windows(4)
        .position(|w| w == b"\n---")
        .expect("mac line")
        + 1;
    let header_end = mac_line
        + envelope[mac_line..]
            .iter()
            .position(|b| *b == b'\n')
            .expect("end of the mac line")
        + 1;
    let identities = [Identity::from_bytes(*org.attorney_identity.to_bytes())];
    let mut inner = Vec::new();
    satchel_seal::age::decrypt(&identities, &envelope[..])
        .expect("age layer")
        .read_to_end(&mut inner)
        .expect("payload");
    let manifest_len = u32::from_be_bytes(inner[20..24].try_into().expect("4 bytes")) as usize;
    let mut hash = Sha256::new();
    hash.update(&envelope[..header_end + 16]);
    hash.update(&inner[..24 + manifest_len + 64]);
    let expected: [u8; 32] = hash.finalize().into();

    assert_eq!(sealed.envelope_id, expected);
    let (opened, _) = open_with(&org, &envelope, &org.attorney_identity).expect("open");
    assert_eq!(opened.envelope_id, expected);

    // Sealing the same submission again makes a different file, with a
    // different id.
    let again = seal_to(
        &org,
        manifest(&[("a.pdf", &attachment)]),
        &[&attachment],
        "m-attorney",
    );
    let (reopened, _) = open_with(&org, &again, &org.attorney_identity).expect("open");
    assert_ne!(reopened.envelope_id, expected);
}

#[test]
fn a_large_attachment_round_trips_and_any_change_in_it_is_refused() {
    // Large enough that its hash is computed on a second thread, on both
    // sides.
    let org = org();
    let attachment: Vec<u8> = (0..3_000_017u32).map(|i| (i % 253) as u8).collect();
    let envelope = seal_to(
        &org,
        manifest(&[("scan.pdf", &attachment)]),
        &[&attachment],
        "m-attorney",
    );
    let (_, attachments) = open_with(&org, &envelope, &org.attorney_identity).expect("open");
    assert_eq!(attachments, vec![attachment.clone()]);

    // The attachment starts after the header and the manifest, both well
    // under 4 KiB here; flip bytes across its whole length and its end.
    let len = envelope.len();
    for position in [4096, len / 3, len / 2, len - 300_000, len - 40_000, len - 1] {
        let mut tampered = envelope.clone();
        tampered[position] ^= 0x80;
        assert!(
            matches!(
                open_with(&org, &tampered, &org.attorney_identity),
                Err(Error::Unauthentic)
            ),
            "a flipped byte at {position} of {len}"
        );
    }

    // Sealing refuses an attachment that differs from its manifest entry
    // only in its last byte.
    let mut changed = attachment.clone();
    *changed.last_mut().expect("not empty") ^= 1;
    let recipients = org
        .directory
        .recipients_for("m-attorney", NOW)
        .expect("recipients");
    let refused = seal(
        manifest(&[("scan.pdf", &attachment)]),
        &mut [&mut &changed[..]],
        &org.worker_device,
        &recipients,
        Vec::new(),
    );
    assert!(matches!(refused, Err(Error::Invalid(_))));
}

#[test]
fn sealing_picks_the_newest_valid_key_and_old_keys_still_open_old_envelopes() {
    let org = org();
    let envelope = seal_to(&org, manifest(&[]), &[], "m-attorney");
    assert!(matches!(
        open_with(&org, &envelope, &org.attorney_old_identity),
        Err(Error::NoMatchingKey)
    ));
    open_with(&org, &envelope, &org.attorney_identity).expect("the current key opens it");
}

#[test]
fn a_team_assignment_reaches_every_attorney_in_it() {
    let org = org();
    let envelope = seal_to(&org, manifest(&[]), &[], "t-housing");
    open_with(&org, &envelope, &org.attorney_identity).expect("first attorney");
    open_with(&org, &envelope, &org.colleague_identity).expect("second attorney");
}

#[test]
fn a_stranger_gets_no_matching_key() {
    let org = org();
    let envelope = seal_to(&org, manifest(&[]), &[], "m-attorney");
    let stranger = Identity::generate().expect("identity");
    assert!(matches!(
        open_with(&org, &envelope, &stranger),
        Err(Error::NoMatchingKey)
    ));
}

#[test]
fn a_flipped_byte_anywhere_is_refused_and_nothing_is_committed() {
    let org = org();
    let attachment = vec![0x42u8; 150_000];
    let envelope = seal_to(
        &org,
        manifest(&[("a.pdf", &attachment)]),
        &[&attachment],
        "m-attorney",
    );

    // Every byte of a small envelope would take long; step through the
    // header densely and the body at a prime stride, which still lands in
    // every region: header, MAC, each chunk, manifest, signature,
    // attachment and padding.
    let header_end = envelope
        .windows(4)
        .position(|w| w == b"--- ")
        .expect("mac line")
        + 48;
    let positions = (0..header_end).chain((header_end..envelope.len()).step_by(997));
    let mut refused = 0;
    for position in positions {
        let mut tampered = envelope.clone();
        tampered[position] ^= 0x01;
        match open_with(&org, &tampered, &org.attorney_identity) {
            Ok(_) => panic!("a flipped byte at {position} was accepted"),
            Err(_) => refused += 1,
        }
    }
    assert!(refused > header_end);
}

#[test]
fn truncation_and_trailing_bytes_are_refused() {
    let org = org();
    let attachment = vec![7u8; 200_000];
    let envelope = seal_to(
        &org,
        manifest(&[("a.pdf", &attachment)]),
        &[&attachment],
        "m-attorney",
    );
    for cut in [
        envelope.len() - 1,
        envelope.len() - 17,
        envelope.len() / 2,
        100,
    ] {
        assert!(
            open_with(&org, &envelope[..cut], &org.attorney_identity).is_err(),
            "cut at {cut}"
        );
    }
    let mut longer = envelope.clone();
    longer.extend_from_slice(b"extra");
    assert!(matches!(
        open_with(&org, &longer, &org.attorney_identity),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn a_manifest_signed_by_a_device_not_in_the_directory_is_refused() {
    let org = org();
    let impostor = SigningSecret::generate().expect("key");
    let recipients = org
        .directory
        .recipients_for("m-attorney", NOW)
        .expect("recipients");
    let (_, envelope) =
        seal(manifest(&[]), &mut [], &impostor, &recipients, Vec::new()).expect("seal");
    assert!(matches!(
        open_with(&org, &envelope, &org.attorney_identity),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn a_manifest_claiming_another_members_device_is_refused() {
    let org = org();
    let mut claimed = manifest(&[]);
    // The attorney's device signs, but the manifest claims the worker sent it.
    claimed.sender.device_id = "d-attorney-desk".to_owned();
    let recipients = org
        .directory
        .recipients_for("m-attorney", NOW)
        .expect("recipients");
    let (_, envelope) = seal(
        claimed,
        &mut [],
        &org.attorney_device,
        &recipients,
        Vec::new(),
    )
    .expect("seal");
    assert!(matches!(
        open_with(&org, &envelope, &org.attorney_identity),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn an_attachment_that_changes_while_sealing_is_refused() {
    let org = org();
    let declared = vec![1u8; 1000];
    let actual = vec![2u8; 1000];
    let recipients = org
        .directory
        .recipients_for("m-attorney", NOW)
        .expect("recipients");
    let mut reader: &[u8] = &actual;
    let result = seal(
        manifest(&[("a.pdf", &declared)]),
        &mut [&mut reader],
        &org.worker_device,
        &recipients,
        Vec::new(),
    );
    assert!(matches!(result, Err(Error::Invalid(_))));
}

#[test]
fn envelope_sizes_are_padded() {
    let org = org();
    let small = seal_to(
        &org,
        manifest(&[("a", &[1u8; 1000][..])]),
        &[&[1u8; 1000]],
        "m-attorney",
    );
    let close = seal_to(
        &org,
        manifest(&[("a", &[1u8; 1010][..])]),
        &[&[1u8; 1010]],
        "m-attorney",
    );
    assert_eq!(
        small.len(),
        close.len(),
        "sizes within one Padmé bucket look the same"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    // Integration tests have no lib.rs for proptest's default lookup, so the
    // regressions file is named directly; its cases are replayed first.
    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 24,
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::Direct(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/envelope.proptest-regressions"
                )),
            )),
            ..ProptestConfig::default()
        })]

        /// Attachments of any size, including empty ones and sizes on
        /// either side of the 64 KiB chunk boundary, come back intact.
        #[test]
        fn attachments_of_any_size_round_trip(
            sizes in proptest::collection::vec(
                prop_oneof![Just(0usize), Just(1), Just(65_535), Just(65_536), Just(65_537),
                            0usize..200_000],
                0..4,
            ),
            fill in any::<u8>(),
        ) {
            let org = org();
            let contents: Vec<Vec<u8>> = sizes.iter().map(|n| vec![fill; *n]).collect();
            let named: Vec<(String, &[u8])> = contents
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("file{i}.bin"), &c[..]))
                .collect();
            let pairs: Vec<(&str, &[u8])> = named.iter().map(|(n, c)| (n.as_str(), *c)).collect();
            let streams: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
            let envelope = seal_to(&org, manifest(&pairs), &streams, "m-attorney");
            let (_, opened) = open_with(&org, &envelope, &org.attorney_identity).expect("open");
            prop_assert_eq!(opened, contents);
        }

        /// Opening arbitrary bytes fails cleanly, never panics.
        #[test]
        fn opening_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let org = org();
            prop_assert!(open_with(&org, &bytes, &org.attorney_identity).is_err());
        }

        /// A real envelope with arbitrary bytes spliced in is refused.
        #[test]
        fn spliced_envelopes_are_refused(at in 0usize..2000, junk in proptest::collection::vec(any::<u8>(), 1..64)) {
            let org = org();
            let envelope = seal_to(&org, manifest(&[]), &[], "m-attorney");
            let at = at % envelope.len();
            let mut spliced = envelope[..at].to_vec();
            spliced.extend_from_slice(&junk);
            spliced.extend_from_slice(&envelope[at..]);
            prop_assert!(open_with(&org, &spliced, &org.attorney_identity).is_err());
        }
    }
}
