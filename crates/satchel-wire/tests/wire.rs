//! Every parser of the wire types, fed what a hostile or broken client
//! might send.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use satchel_wire::ids::{EnvelopeId, IdError, MailboxId};
use satchel_wire::refusal::{Code, Refusal};
use satchel_wire::tus::{self, TusError, UploadMetadata};

const ID: &str = "9368a7d21e018f64ae3327d2f25cd4d7693b2d85328e4bb680bcfcbd4c26b90e";

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

#[test]
fn envelope_ids_are_exactly_64_lowercase_hex_digits() {
    let id: EnvelopeId = ID.parse().expect("a good id");
    assert_eq!(id.to_string(), ID);
    assert_eq!(id.as_bytes()[0], 0x93);
    let upper = ID.to_uppercase();
    let with_path = format!("../{}", &ID[3..]);
    let with_nul = format!("{}\0", &ID[1..]);
    for bad in [
        &upper[..],
        &with_path[..],
        &with_nul[..],
        "",
        &ID[1..],
        &format!("{ID}0")[..],
    ] {
        assert!(bad.parse::<EnvelopeId>().is_err(), "{bad:?} accepted");
    }
    assert_eq!(
        "ab".parse::<EnvelopeId>(),
        Err(IdError::EnvelopeIdLength(2))
    );
}

#[test]
fn mailbox_ids_cannot_name_a_path_or_hide_a_control_character() {
    for good in ["dev-7f3a", "a", "device_1", &"d".repeat(64)] {
        let id: MailboxId = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(id.as_str(), good);
    }
    for bad in [
        "",
        "../etc",
        "a/b",
        "a\0b",
        "-lead",
        "_lead",
        "Upper",
        "a b",
        "a.b",
        &"d".repeat(65),
        "é",
    ] {
        assert!(bad.parse::<MailboxId>().is_err(), "{bad:?} accepted");
    }
}

#[test]
fn ids_travel_as_json_strings_and_are_checked_on_the_way_in() {
    let id: EnvelopeId = ID.parse().expect("id");
    let json = serde_json::to_string(&id).expect("json");
    assert_eq!(json, format!("\"{ID}\""));
    assert_eq!(serde_json::from_str::<EnvelopeId>(&json).expect("back"), id);
    assert!(serde_json::from_str::<MailboxId>("\"../x\"").is_err());
}

#[test]
fn only_tus_1_0_0_is_spoken() {
    assert_eq!(tus::check_version(Some("1.0.0")), Ok(()));
    for bad in [None, Some(""), Some("0.2.2"), Some("1.0.0 "), Some("1.0")] {
        assert_eq!(tus::check_version(bad), Err(TusError::Version), "{bad:?}");
    }
}

#[test]
fn lengths_and_offsets_are_plain_digits() {
    assert_eq!(tus::parse_number("Upload-Offset", "0"), Ok(0));
    assert_eq!(
        tus::parse_number("Upload-Length", "1073741824"),
        Ok(1 << 30)
    );
    assert_eq!(
        tus::parse_number("Upload-Length", "9223372036854775807"),
        Ok(i64::MAX as u64)
    );
    for bad in [
        "",
        "-1",
        "+5",
        " 5",
        "5 ",
        "0x10",
        "1e3",
        "9223372036854775808",
        "99999999999999999999",
        "٣",
    ] {
        assert_eq!(
            tus::parse_number("Upload-Length", bad),
            Err(TusError::Number("Upload-Length")),
            "{bad:?}"
        );
    }
}

#[test]
fn metadata_round_trips_and_keeps_recipient_order() {
    let header = format!("envelope {},recipients {}", b64(ID), b64("dev-b dev-a"));
    let metadata = UploadMetadata::parse(&header).expect("good metadata");
    assert_eq!(metadata.envelope.to_string(), ID);
    let names: Vec<&str> = metadata.recipients.iter().map(MailboxId::as_str).collect();
    assert_eq!(names, ["dev-b", "dev-a"]);
    assert_eq!(UploadMetadata::parse(&metadata.to_header()), Ok(metadata));
    // Order of pairs and spaces around them do not matter.
    let turned = format!(" recipients {} , envelope {}", b64("dev-a"), b64(ID));
    assert!(UploadMetadata::parse(&turned).is_ok());
}

#[test]
fn metadata_may_carry_nothing_but_the_envelope_and_its_recipients() {
    let good_envelope = format!("envelope {}", b64(ID));
    let good_recipients = format!("recipients {}", b64("dev-a"));
    let cases: Vec<(String, TusError)> = vec![
        (
            format!(
                "{good_envelope},{good_recipients},filename {}",
                b64("eviction-notice.pdf")
            ),
            TusError::MetadataKey("filename".into()),
        ),
        (
            format!("{good_envelope},{good_envelope},{good_recipients}"),
            TusError::MetadataRepeated("envelope".into()),
        ),
        (
            good_envelope.clone(),
            TusError::MetadataMissing("recipients"),
        ),
        (
            good_recipients.clone(),
            TusError::MetadataMissing("envelope"),
        ),
        (
            format!("{good_envelope},recipients not-base64!"),
            TusError::MetadataValue("recipients"),
        ),
        (
            format!(
                "{good_envelope},recipients {}",
                STANDARD.encode([0xff, 0xfe])
            ),
            TusError::MetadataValue("recipients"),
        ),
        (
            format!("{good_envelope},recipients"),
            TusError::MetadataShape,
        ),
        (
            format!("{good_envelope},,{good_recipients}"),
            TusError::MetadataShape,
        ),
        (
            format!("{good_envelope},recipients {} extra", b64("dev-a")),
            TusError::MetadataShape,
        ),
        (
            format!("{good_envelope},recipients {}", b64("dev-a dev-a")),
            TusError::Recipients,
        ),
        (
            format!("{good_envelope},recipients {}", b64("")),
            TusError::MetadataShape,
        ),
        (
            format!("{good_envelope},recipients {}", b64("../../etc")),
            TusError::Id(IdError::MailboxIdCharacters),
        ),
        (
            format!("envelope {},{good_recipients}", b64("../x")),
            TusError::Id(IdError::EnvelopeIdLength(4)),
        ),
    ];
    for (header, expected) in cases {
        assert_eq!(
            UploadMetadata::parse(&header),
            Err(expected.clone()),
            "{header}"
        );
        assert!(!expected.to_string().is_empty());
    }
    let gap = format!("{good_envelope},recipients {}", b64("dev-a  dev-b"));
    assert_eq!(
        UploadMetadata::parse(&gap),
        Err(TusError::Id(IdError::MailboxIdLength))
    );
    let many: Vec<String> = (0..17).map(|i| format!("dev-{i}")).collect();
    let too_many = format!("{good_envelope},recipients {}", b64(&many.join(" ")));
    assert_eq!(UploadMetadata::parse(&too_many), Err(TusError::Recipients));
    let huge = format!(
        "{good_envelope},{good_recipients},{}",
        "x".repeat(tus::MAX_METADATA_BYTES)
    );
    assert_eq!(UploadMetadata::parse(&huge), Err(TusError::MetadataTooLong));
}

#[test]
fn a_refused_key_is_quoted_safely() {
    let header = format!(
        "\u{1b}[31mevil\u{7} {},envelope {},recipients {}",
        b64("x"),
        b64(ID),
        b64("dev-a")
    );
    let Err(TusError::MetadataKey(key)) = UploadMetadata::parse(&header) else {
        panic!("not refused as a key");
    };
    assert!(key.chars().all(|c| c.is_ascii_graphic()), "{key:?}");
}

#[test]
fn every_refusal_is_a_4xx_and_travels_as_json() {
    let codes = [
        Code::Malformed,
        Code::UnsupportedVersion,
        Code::Unauthenticated,
        Code::Forbidden,
        Code::NotFound,
        Code::OffsetMismatch,
        Code::TooLarge,
        Code::QuotaExceeded,
        Code::RateLimited,
        Code::Rollback,
        Code::ChallengeUsed,
    ];
    for code in codes {
        assert!((400..500).contains(&code.status()), "{code:?}");
        let refusal = Refusal {
            code,
            message: "wait a moment".into(),
            retry_after_seconds: Some(3),
        };
        let json = serde_json::to_string(&refusal).expect("json");
        assert_eq!(
            serde_json::from_str::<Refusal>(&json).expect("back"),
            refusal
        );
    }
    let json = serde_json::to_string(&Refusal {
        code: Code::RateLimited,
        message: String::new(),
        retry_after_seconds: None,
    })
    .expect("json");
    assert_eq!(json, r#"{"code":"rate_limited","message":""}"#);
    assert!(serde_json::from_str::<Refusal>(r#"{"code":"teapot","message":""}"#).is_err());
}

proptest! {
    #[test]
    fn parsers_never_panic(text in ".{0,300}") {
        let _ = UploadMetadata::parse(&text);
        let _ = tus::parse_number("Upload-Offset", &text);
        let _ = text.parse::<EnvelopeId>();
        let _ = text.parse::<MailboxId>();
    }

    #[test]
    fn generated_metadata_round_trips(bytes in any::<[u8; 32]>(), names in prop::collection::btree_set("[a-z0-9][a-z0-9_-]{0,20}", 1..=16)) {
        let metadata = UploadMetadata {
            envelope: EnvelopeId::from_bytes(bytes),
            recipients: names.iter().map(|n| n.parse().expect("generated to be valid")).collect(),
        };
        prop_assert_eq!(UploadMetadata::parse(&metadata.to_header()), Ok(metadata));
    }
}
