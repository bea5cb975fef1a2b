//! Time-based one-time codes (RFC 6238) for the roles that need a second factor.
//!
//! A code is HOTP (RFC 4226) computed over the number of whole time steps
//! since the Unix epoch. Sign-in accepts the usual authenticator-app
//! settings: HMAC-SHA-1, six digits, thirty-second steps, with one step of
//! clock drift allowed either side. Each step may be used only once: the
//! caller keeps the step [`verify`] returns and hands it back next time.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// The length of a time step, in seconds, for sign-in codes.
pub const STEP_SECONDS: u64 = 30;

/// The number of digits in a sign-in code.
pub const DIGITS: u32 = 6;

/// The number of random bytes in a newly generated secret (160 bits, the
/// size RFC 4226 recommends for HMAC-SHA-1).
const GENERATED_SECRET_BYTES: usize = 20;

/// The shortest secret accepted, in bytes (128 bits, the RFC 4226 minimum).
const MIN_SECRET_BYTES: usize = 16;

/// The longest secret accepted, in bytes.
const MAX_SECRET_BYTES: usize = 64;

/// The fewest and most digits [`code_at`] produces.
const MIN_DIGITS: u32 = 6;
const MAX_DIGITS: u32 = 8;

/// The shared secret between the vault and a person's authenticator app.
///
/// The bytes are wiped from memory when the value is dropped. The type
/// deliberately implements neither `Debug`, `Display`, `Clone` nor
/// `Serialize`, so it cannot end up in a log line by accident:
///
/// ```compile_fail
/// let secret = satchel_vault::totp::TotpSecret::generate().expect("random bytes");
/// let _ = format!("{:?}", secret);
/// ```
///
/// ```compile_fail
/// let secret = satchel_vault::totp::TotpSecret::generate().expect("random bytes");
/// let _copy = secret.clone();
/// ```
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// Generates a new secret of 20 random bytes from the operating system's
    /// random number generator.
    ///
    /// # Errors
    ///
    /// [`Error::Random`] when the random number generator is unavailable.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new(vec![0u8; GENERATED_SECRET_BYTES]);
        getrandom::fill(bytes.as_mut_slice()).map_err(|_| Error::Random)?;
        Ok(Self(bytes))
    }

    /// Wraps an existing secret, such as one read back from the vault.
    ///
    /// The secret must be between 16 and 64 bytes long. The bytes are wiped
    /// on drop, including when they are refused.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the secret is shorter or longer than that.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let bytes = Zeroizing::new(bytes);
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(Error::Invalid(format!(
                "the authenticator secret must be between {MIN_SECRET_BYTES} and \
                 {MAX_SECRET_BYTES} bytes long; set up the authenticator app again"
            )));
        }
        Ok(Self(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in RFC 4648 base32 (uppercase, without padding), the form
    /// a person types into an authenticator app by hand.
    pub fn to_base32(&self) -> Zeroizing<String> {
        base32_encode(&self.0)
    }

    /// The `otpauth://` address an authenticator app reads from a QR code.
    ///
    /// It has the form
    /// `otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30`,
    /// with the issuer and account percent-encoded. The address contains
    /// the secret, so it is wiped from memory when dropped.
    pub fn provisioning_uri(&self, account: &str, issuer: &str) -> Zeroizing<String> {
        const SCHEME: &str = "otpauth://totp/";
        const SECRET_KEY: &str = "?secret=";
        const ISSUER_KEY: &str = "&issuer=";

        let issuer = percent_encode(issuer);
        let account = percent_encode(account);
        let secret = self.to_base32();
        let parameters = format!("&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}");

        // Reserve the whole length up front so the buffer holding the secret
        // is never reallocated, which would leave an unwiped copy behind.
        let capacity = SCHEME.len()
            + issuer.len()
            + 1
            + account.len()
            + SECRET_KEY.len()
            + secret.len()
            + ISSUER_KEY.len()
            + issuer.len()
            + parameters.len();
        let mut uri = Zeroizing::new(String::with_capacity(capacity));
        uri.push_str(SCHEME);
        uri.push_str(&issuer);
        uri.push(':');
        uri.push_str(&account);
        uri.push_str(SECRET_KEY);
        uri.push_str(&secret);
        uri.push_str(ISSUER_KEY);
        uri.push_str(&issuer);
        uri.push_str(&parameters);
        uri
    }
}

/// The hash function underneath the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA-1, what authenticator apps use by default.
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// The RFC 6238 code for `secret` at `unix_time` (seconds since the epoch).
///
/// The time step counter is `unix_time / step_seconds`; a `step_seconds` of
/// zero is treated as one. `digits` must be between 6 and 8: smaller values
/// are raised to 6 and larger ones lowered to 8. The code is zero-padded to
/// exactly that many digits.
pub fn code_at(
    secret: &[u8],
    algorithm: Algorithm,
    digits: u32,
    step_seconds: u64,
    unix_time: u64,
) -> String {
    let counter = unix_time / step_seconds.max(1);
    hotp(secret, algorithm, digits, counter)
}

/// Checks a sign-in code typed by a person and returns the time step it
/// belongs to.
///
/// The code is the HMAC-SHA-1, 6-digit, 30-second one. The current step and
/// one step either side are accepted, to allow for a clock that is a little
/// fast or slow. Surrounding whitespace is ignored, as is a single space
/// between the digits (as in `123 456`).
///
/// A step at or before `last_used_step` is refused, so a code cannot be
/// used twice. The caller must store the returned step and pass it as
/// `last_used_step` on the next check for the same account.
///
/// # Errors
///
/// [`Error::TotpWrong`] when the code is malformed, does not match, or
/// belongs to a step that was already used.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    unix_time: u64,
    last_used_step: Option<u64>,
) -> Result<u64> {
    let Some(candidate) = normalise_code(code) else {
        return Err(Error::TotpWrong);
    };
    let current = unix_time / STEP_SECONDS;
    let steps = [
        current.checked_sub(1),
        Some(current),
        current.checked_add(1),
    ];

    // Every step in the window is computed and compared, whichever matches,
    // so the time taken does not reveal how close a guess came. When more
    // than one step matches, the latest is kept, so that storing it also
    // rules out replaying the code against the earlier ones.
    let mut accepted = None;
    for step in steps.into_iter().flatten() {
        let expected = Zeroizing::new(hotp(secret.as_bytes(), Algorithm::Sha1, DIGITS, step));
        let matches: Choice = expected.as_bytes().ct_eq(&candidate);
        let fresh = last_used_step.is_none_or(|last| step > last);
        if bool::from(matches) && fresh {
            accepted = Some(step);
        }
    }
    accepted.ok_or(Error::TotpWrong)
}

/// HOTP (RFC 4226) with the given hash and number of digits.
fn hotp(secret: &[u8], algorithm: Algorithm, digits: u32, counter: u64) -> String {
    let digits = digits.clamp(MIN_DIGITS, MAX_DIGITS);
    let message = counter.to_be_bytes();
    let truncated = match algorithm {
        Algorithm::Sha1 => {
            let mut mac =
                Hmac::<Sha1>::new_from_slice(secret).expect("HMAC accepts keys of any length");
            mac.update(&message);
            dynamic_truncation(&mac.finalize().into_bytes())
        }
        Algorithm::Sha256 => {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
            mac.update(&message);
            dynamic_truncation(&mac.finalize().into_bytes())
        }
        Algorithm::Sha512 => {
            let mut mac =
                Hmac::<Sha512>::new_from_slice(secret).expect("HMAC accepts keys of any length");
            mac.update(&message);
            dynamic_truncation(&mac.finalize().into_bytes())
        }
    };
    // At most 10^8, which fits in a u32.
    let modulus = 10u32.pow(digits);
    let width = digits as usize;
    format!("{:0width$}", truncated % modulus)
}

/// RFC 4226 section 5.3: the low four bits of the last byte pick an offset,
/// and the 31 bits from there are the value.
///
/// Every digest used here is at least 20 bytes long and the offset is at
/// most 15, so the four bytes read always exist.
fn dynamic_truncation(digest: &[u8]) -> u32 {
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let bytes = [
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ];
    u32::from_be_bytes(bytes) & 0x7fff_ffff
}

/// The six ASCII digits of a typed code, or `None` when it is not one.
///
/// Surrounding whitespace is dropped, and one space between digits is
/// allowed.
fn normalise_code(code: &str) -> Option<[u8; DIGITS as usize]> {
    let trimmed = code.trim();
    let mut digits = [0u8; DIGITS as usize];
    let mut count = 0;
    let mut spaces = 0;
    for byte in trimmed.bytes() {
        if byte == b' ' {
            spaces += 1;
            if spaces > 1 {
                return None;
            }
        } else if byte.is_ascii_digit() {
            *digits.get_mut(count)? = byte;
            count += 1;
        } else {
            return None;
        }
    }
    (count == digits.len()).then_some(digits)
}

/// RFC 4648 base32 with the standard alphabet, uppercase, without padding.
fn base32_encode(bytes: &[u8]) -> Zeroizing<String> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    // Reserve the exact length so the buffer is never reallocated.
    let mut text = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(5) * 8));
    let mut buffer: u16 = 0;
    let mut bits: u32 = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let index = usize::from((buffer >> bits) & 0x1f);
            text.push(char::from(ALPHABET[index]));
        }
        // Only the low `bits` bits are still pending; drop the rest so the
        // buffer cannot overflow.
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        let index = usize::from((buffer << (5 - bits)) & 0x1f);
        text.push(char::from(ALPHABET[index]));
    }
    buffer.zeroize();
    text
}

/// Percent-encodes everything except the RFC 3986 unreserved characters
/// (letters, digits, `-`, `.`, `_` and `~`).
fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    fn secret() -> TotpSecret {
        TotpSecret::from_bytes(SEED_SHA1.to_vec()).expect("a 20-byte secret is accepted")
    }

    fn code_for_step(step: u64) -> String {
        code_at(SEED_SHA1, Algorithm::Sha1, DIGITS, 1, step)
    }

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        const VECTORS: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        let mut asserted = 0;
        for (time, sha1, sha256, sha512) in VECTORS {
            for (seed, algorithm, expected) in [
                (SEED_SHA1, Algorithm::Sha1, sha1),
                (SEED_SHA256, Algorithm::Sha256, sha256),
                (SEED_SHA512, Algorithm::Sha512, sha512),
            ] {
                assert_eq!(
                    code_at(seed, algorithm, 8, 30, time),
                    expected,
                    "{algorithm:?} at T={time}"
                );
                asserted += 1;
            }
        }
        assert_eq!(asserted, 18);
    }

    #[test]
    fn rfc_4226_appendix_d_vectors() {
        const EXPECTED: [&str; 10] = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let mut asserted = 0;
        for (counter, expected) in (0u64..).zip(EXPECTED) {
            assert_eq!(
                code_at(SEED_SHA1, Algorithm::Sha1, 6, 1, counter),
                expected,
                "counter {counter}"
            );
            asserted += 1;
        }
        assert_eq!(asserted, 10);
    }

    #[test]
    fn digits_outside_the_range_are_clamped() {
        assert_eq!(code_at(SEED_SHA1, Algorithm::Sha1, 4, 1, 0), "755224");
        assert_eq!(code_at(SEED_SHA1, Algorithm::Sha1, 12, 30, 59), "94287082");
        assert_eq!(code_at(SEED_SHA1, Algorithm::Sha1, 6, 0, 0), "755224");
    }

    #[test]
    fn current_step_is_accepted_and_returned() {
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;
        let code = code_for_step(step);
        assert_eq!(verify(&secret(), &code, now, None).expect("accepted"), step);
    }

    #[test]
    fn one_step_of_drift_either_side_is_accepted() {
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;
        for other in [step - 1, step + 1] {
            let code = code_for_step(other);
            assert_eq!(
                verify(&secret(), &code, now, None).expect("accepted"),
                other
            );
        }
    }

    #[test]
    fn two_steps_away_is_refused() {
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;
        for other in [step - 2, step + 2] {
            let code = code_for_step(other);
            assert!(matches!(
                verify(&secret(), &code, now, None),
                Err(Error::TotpWrong)
            ));
        }
    }

    #[test]
    fn a_used_step_is_refused() {
        let now = 1_111_111_111;
        let code = code_for_step(now / STEP_SECONDS);
        let step = verify(&secret(), &code, now, None).expect("first use is accepted");
        assert!(matches!(
            verify(&secret(), &code, now, Some(step)),
            Err(Error::TotpWrong)
        ));
        // A code from before the last used step is refused too.
        let earlier = code_for_step(step - 1);
        assert!(matches!(
            verify(&secret(), &earlier, now, Some(step)),
            Err(Error::TotpWrong)
        ));
        // The next step is still fine.
        let later = code_for_step(step + 1);
        assert_eq!(
            verify(&secret(), &later, now, Some(step)).expect("a newer step is accepted"),
            step + 1
        );
    }

    #[test]
    fn whitespace_around_and_one_space_inside_are_allowed() {
        let now = 59;
        let code = code_for_step(now / STEP_SECONDS);
        let (left, right) = code.split_at(3);
        for typed in [
            format!("  {code}\n"),
            format!("{left} {right}"),
            format!("\t{left} {right} "),
        ] {
            assert!(verify(&secret(), &typed, now, None).is_ok(), "{typed:?}");
        }
        for typed in [format!("{left}  {right}"), format!("{left}\t{right}")] {
            assert!(
                matches!(verify(&secret(), &typed, now, None), Err(Error::TotpWrong)),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        for typed in [
            "",
            "   ",
            "12345",
            "1234567",
            "12a456",
            "１２３４５６",
            "-12345",
            "1 2 3456",
        ] {
            assert!(
                matches!(verify(&secret(), typed, 59, None), Err(Error::TotpWrong)),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn secrets_must_be_16_to_64_bytes() {
        assert!(matches!(
            TotpSecret::from_bytes(vec![0; 15]),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            TotpSecret::from_bytes(vec![0; 65]),
            Err(Error::Invalid(_))
        ));
        assert!(TotpSecret::from_bytes(vec![0; 16]).is_ok());
        assert!(TotpSecret::from_bytes(vec![0; 64]).is_ok());
    }

    #[test]
    fn generated_secrets_are_20_random_bytes() {
        let first = TotpSecret::generate().expect("the system RNG works");
        let second = TotpSecret::generate().expect("the system RNG works");
        assert_eq!(first.as_bytes().len(), 20);
        assert_ne!(first.as_bytes(), second.as_bytes());
        assert_eq!(first.to_base32().len(), 32);
    }

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        let vectors: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "MY"),
            (b"fo", "MZXQ"),
            (b"foo", "MZXW6"),
            (b"foob", "MZXW6YQ"),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI"),
        ];
        let mut asserted = 0;
        for (input, expected) in vectors {
            assert_eq!(base32_encode(input).as_str(), expected, "{input:?}");
            asserted += 1;
        }
        assert_eq!(asserted, 7);
        assert_eq!(
            secret().to_base32().as_str(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn provisioning_uri_encodes_issuer_and_account() {
        let uri = secret().provisioning_uri("ana.m@example.org", "Legal Aid & Co");
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/Legal%20Aid%20%26%20Co:ana.m%40example.org\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Legal%20Aid%20%26%20Co\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(percent_encode("a b:c/é"), "a%20b%3Ac%2F%C3%A9");
    }
}
