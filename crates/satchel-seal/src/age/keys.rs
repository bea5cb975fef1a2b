//! X25519 keys and their Bech32 text forms.
//!
//! An age X25519 identity is 32 random bytes; its recipient is the X25519
//! public key for it (age spec, "The X25519 recipient type"). Both travel as
//! Bech32 strings: recipients as `age1...` and identities as
//! `AGE-SECRET-KEY-1...`. The spec uses BIP 173 Bech32 (not Bech32m) without
//! its length limit, and a string is either all upper case or all lower case,
//! with the checksum computed over the lower-case form.

use std::fmt;
use std::str::FromStr;

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// Human-readable part of a recipient string ("The X25519 recipient type").
const RECIPIENT_HRP: &str = "age";
/// Human-readable part of an identity string, compared in lower case.
const IDENTITY_HRP: &str = "age-secret-key-";
/// Human-readable parts of post-quantum and hardware-tag keys, which Satchel
/// recognises only to refuse them with a clear message.
const PQ_RECIPIENT_HRPS: [&str; 3] = ["age1pq", "age1tag", "age1tagpq"];
const PQ_IDENTITY_HRP: &str = "age-secret-key-pq-";
/// A 32-byte key is 52 five-bit Bech32 characters (256 bits and 4 of padding).
const KEY_CHARS: usize = 52;

/// An age X25519 recipient: the public key a file is sealed to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Recipient([u8; 32]);

impl Recipient {
    /// The recipient with these public key bytes (a Curve25519 u-coordinate).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The public key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The key in the form x25519-dalek works with.
    pub(crate) fn public_key(&self) -> PublicKey {
        PublicKey::from(self.0)
    }
}

impl FromStr for Recipient {
    type Err = Error;

    /// Parses an `age1...` recipient string (upper case is accepted too, as
    /// Bech32 allows, but never a mix of cases).
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let decoded = CheckedHrpstring::new::<Bech32>(text).map_err(|_| {
            Error::Invalid(format!(
                "{} is not an age recipient: expected a key of the form age1...",
                shorten(text)
            ))
        })?;

        let hrp = decoded.hrp().to_lowercase();
        if PQ_RECIPIENT_HRPS.contains(&hrp.as_str()) {
            return Err(Error::Unsupported(
                "post-quantum and hardware-tag age recipients (only X25519 age1... keys)",
            ));
        }
        if hrp != RECIPIENT_HRP {
            return Err(Error::Invalid(format!(
                "{} is not an X25519 age recipient: it should start with age1",
                shorten(text)
            )));
        }

        let mut bytes = [0u8; 32];
        decode_key(&decoded, &mut bytes).map_err(|()| {
            Error::Invalid(format!(
                "{} is not a valid age recipient: the key has the wrong length",
                shorten(text)
            ))
        })?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for Recipient {
    /// Writes the `age1...` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(RECIPIENT_HRP);
        bech32::encode_lower_to_fmt::<Bech32, _>(f, hrp, &self.0).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Recipient {
    /// Shows the `age1...` form, which people can compare with a key file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Recipient")
            .field(&format_args!("{self}"))
            .finish()
    }
}

/// An age X25519 identity: the secret key that opens files sealed to its
/// [`Recipient`].
///
/// It deliberately has no `Debug`, `Display`, `Clone` or `Serialize`, so it
/// cannot leak into logs or be copied by accident; the secret is wiped when
/// the value is dropped. So this does not compile:
///
/// ```compile_fail
/// let identity = satchel_seal::age::Identity::generate().expect("identity");
/// let printed = format!("{identity:?}");
/// ```
///
/// while its public half prints:
///
/// ```
/// let identity = satchel_seal::age::Identity::generate().expect("identity");
/// let printed = format!("{:?}", identity.recipient());
/// ```
pub struct Identity {
    /// Zeroized on drop by x25519-dalek (its `zeroize` feature).
    secret: StaticSecret,
    /// Cached: every unwrap needs it for the HKDF salt.
    public: PublicKey,
}

impl Identity {
    /// A new identity from the operating system's random number generator
    /// ("identity = read(CSPRNG, 32)").
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        crate::error::random(bytes.as_mut())?;
        Ok(Self::from_bytes(*bytes))
    }

    /// The identity with these secret bytes. X25519 clamps them when used,
    /// so any 32 bytes are a valid identity.
    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let secret = StaticSecret::from(bytes);
        bytes.zeroize();
        let public = PublicKey::from(&secret);
        Self { secret, public }
    }

    /// The secret bytes, wiped when the returned value is dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.secret.as_bytes())
    }

    /// Parses an `AGE-SECRET-KEY-1...` identity string, as written by
    /// `age-keygen` (upper case) or in lower case. Surrounding whitespace is
    /// ignored; anything else is an error.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        // The message never echoes the text: it may be a mistyped secret.
        let decoded = CheckedHrpstring::new::<Bech32>(text).map_err(|_| {
            Error::Invalid(
                "this is not an age identity: expected a secret key of the form \
                 AGE-SECRET-KEY-1..."
                    .to_owned(),
            )
        })?;

        let hrp = decoded.hrp().to_lowercase();
        if hrp == PQ_IDENTITY_HRP {
            return Err(Error::Unsupported(
                "post-quantum age identities (only X25519 AGE-SECRET-KEY-1... keys)",
            ));
        }
        if hrp != IDENTITY_HRP {
            return Err(Error::Invalid(
                "this is not an X25519 age identity: it should start with AGE-SECRET-KEY-1"
                    .to_owned(),
            ));
        }

        let mut bytes = Zeroizing::new([0u8; 32]);
        decode_key(&decoded, &mut bytes).map_err(|()| {
            Error::Invalid("this age identity is damaged: the key has the wrong length".to_owned())
        })?;
        Ok(Self::from_bytes(*bytes))
    }

    /// The `AGE-SECRET-KEY-1...` form, in upper case as `age-keygen` writes
    /// it, so `age -d -i <file>` reads a file holding it.
    pub fn to_age_string(&self) -> Zeroizing<String> {
        let bytes = self.to_bytes();
        let hrp = Hrp::parse_unchecked(IDENTITY_HRP);
        let mut text = Zeroizing::new(String::with_capacity(80));
        bech32::encode_upper_to_fmt::<Bech32, _>(&mut *text, hrp, bytes.as_ref())
            .expect("writing to a String cannot fail and 32 bytes are within Bech32's limit");
        text
    }

    /// The recipient that files for this identity are sealed to
    /// ("recipient = X25519(identity, basepoint)").
    pub fn recipient(&self) -> Recipient {
        Recipient(self.public.to_bytes())
    }

    /// The secret, for the stanza unwrap.
    pub(crate) fn secret(&self) -> &StaticSecret {
        &self.secret
    }

    /// The public key, for the stanza unwrap's HKDF salt.
    pub(crate) fn public(&self) -> &PublicKey {
        &self.public
    }
}

/// Copies the 32-byte key out of a checked Bech32 string, insisting on the
/// exact length and on zero padding bits (BIP 173: the incomplete group at
/// the end "MUST be all zeroes"), so each key has exactly one encoding.
fn decode_key(decoded: &CheckedHrpstring<'_>, out: &mut [u8; 32]) -> Result<(), ()> {
    if decoded.data_part_ascii_no_checksum().len() != KEY_CHARS {
        return Err(());
    }
    decoded.validate_segwit_padding().map_err(|_| ())?;
    let mut count = 0;
    for (slot, byte) in out.iter_mut().zip(decoded.byte_iter()) {
        *slot = byte;
        count += 1;
    }
    if count == out.len() { Ok(()) } else { Err(()) }
}

/// A recipient string cut short for an error message.
fn shorten(text: &str) -> String {
    const MAX: usize = 24;
    if text.chars().count() <= MAX {
        format!("\"{text}\"")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("\"{head}...\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example keys from the age spec ("The X25519 recipient type").
    const SPEC_IDENTITY: &str =
        "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
    const SPEC_RECIPIENT: &str = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

    #[test]
    fn spec_example_keys_parse_and_match() {
        let identity = Identity::parse(SPEC_IDENTITY).expect("spec identity parses");
        let recipient: Recipient = SPEC_RECIPIENT.parse().expect("spec recipient parses");
        assert_eq!(identity.recipient(), recipient);
        assert_eq!(identity.to_age_string().as_str(), SPEC_IDENTITY);
        assert_eq!(recipient.to_string(), SPEC_RECIPIENT);
        assert_eq!(
            format!("{recipient:?}"),
            format!("Recipient({SPEC_RECIPIENT})")
        );
        // The spec's identity is the bytes "BBBB..." (0x42 repeated).
        assert_eq!(*identity.to_bytes(), [0x42; 32]);
    }

    #[test]
    fn generated_keys_round_trip_through_text_and_bytes() {
        let identity = Identity::generate().expect("random identity");
        let text = identity.to_age_string();
        assert!(text.starts_with("AGE-SECRET-KEY-1"));
        let again = Identity::parse(&text).expect("own output parses");
        assert_eq!(*again.to_bytes(), *identity.to_bytes());
        let lower = Identity::parse(&text.to_lowercase()).expect("lower case parses");
        assert_eq!(lower.recipient(), identity.recipient());

        let recipient = identity.recipient();
        let shown = recipient.to_string();
        assert!(shown.starts_with("age1"));
        assert_eq!(
            shown.parse::<Recipient>().expect("own output parses"),
            recipient
        );
        assert_eq!(Recipient::from_bytes(recipient.to_bytes()), recipient);
        assert_eq!(
            *Identity::from_bytes(*identity.to_bytes()).to_bytes(),
            *identity.to_bytes()
        );
    }

    #[test]
    fn mixed_case_and_damaged_strings_are_refused() {
        let mut mixed = SPEC_IDENTITY.to_owned();
        mixed.replace_range(20..21, &mixed[20..21].to_lowercase());
        assert!(matches!(Identity::parse(&mixed), Err(Error::Invalid(_))));

        let mut flipped = SPEC_RECIPIENT.to_owned();
        flipped.replace_range(10..11, "q");
        assert!(matches!(
            flipped.parse::<Recipient>(),
            Err(Error::Invalid(_))
        ));

        for junk in [
            "",
            "age1",
            "hello",
            "AGE-SECRET-KEY-1",
            "age1qqqqqqqqqqqqqq",
        ] {
            assert!(
                matches!(junk.parse::<Recipient>(), Err(Error::Invalid(_))),
                "{junk}"
            );
            assert!(
                matches!(Identity::parse(junk), Err(Error::Invalid(_))),
                "{junk}"
            );
        }
    }

    #[test]
    fn keys_of_the_other_kind_are_refused() {
        assert!(matches!(
            SPEC_IDENTITY.parse::<Recipient>(),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            Identity::parse(SPEC_RECIPIENT),
            Err(Error::Invalid(_))
        ));
        // Bech32m with the right prefix is not an age key.
        let bech32m =
            bech32::encode::<bech32::Bech32m>(Hrp::parse_unchecked("age"), &[7u8; 32]).expect("ok");
        assert!(matches!(
            bech32m.parse::<Recipient>(),
            Err(Error::Invalid(_))
        ));
        // Too short or too long a key.
        for len in [31, 33] {
            let text =
                bech32::encode::<Bech32>(Hrp::parse_unchecked("age"), &vec![7u8; len]).expect("ok");
            assert!(
                matches!(text.parse::<Recipient>(), Err(Error::Invalid(_))),
                "{len}"
            );
        }
    }

    #[test]
    fn post_quantum_keys_are_unsupported() {
        let pq = "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG";
        assert!(matches!(Identity::parse(pq), Err(Error::Unsupported(_))));
        let pq_recipient =
            bech32::encode::<Bech32>(Hrp::parse_unchecked("age1pq"), &[1u8; 40]).expect("ok");
        assert!(matches!(
            pq_recipient.parse::<Recipient>(),
            Err(Error::Unsupported(_))
        ));
    }
}
