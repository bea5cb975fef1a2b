//! Secret values as types.
//!
//! None of these implement `Debug`, `Display`, `Clone` or `Serialize`, so a
//! secret cannot reach a log line or an error message by accident, and each
//! is wiped from memory when it is dropped.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// The shortest passphrase an account may have, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// A passphrase typed by a person.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Takes ownership of a typed passphrase. The string is wiped on drop.
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// Checks the passphrase against the policy for new passphrases.
    pub fn check_new(&self) -> Result<()> {
        if self.0.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(Error::PassphraseTooShort {
                min: MIN_PASSPHRASE_CHARS,
            });
        }
        Ok(())
    }

    /// Compares two passphrases in constant time, as when a person types a
    /// new one twice.
    pub fn matches(&self, other: &Passphrase) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The random 256-bit key SQLCipher encrypts the database with.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct DatabaseKey([u8; 32]);

impl DatabaseKey {
    pub(crate) fn generate() -> Result<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
        Ok(Self(bytes))
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as SQLCipher's raw-key literal, `x'<64 hex digits>'`, which
    /// skips SQLCipher's own passphrase derivation on every open.
    pub(crate) fn to_sqlcipher_literal(&self) -> Zeroizing<String> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = Zeroizing::new(String::with_capacity(67));
        text.push_str("x'");
        for byte in self.0 {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        text.push('\'');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passphrases_are_refused() {
        let short = Passphrase::new("eleven char".to_owned());
        assert!(matches!(
            short.check_new(),
            Err(Error::PassphraseTooShort { min: 12 })
        ));
        let long = Passphrase::new("twelve chars".to_owned());
        assert!(long.check_new().is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Eleven characters, but more than twelve bytes in UTF-8.
        let accented = Passphrase::new("ñññññññññññ".to_owned());
        assert!(accented.check_new().is_err());
    }

    #[test]
    fn sqlcipher_literal_is_hex_of_the_key() {
        let key = DatabaseKey::from_bytes([0xab; 32]);
        let literal = key.to_sqlcipher_literal();
        assert_eq!(literal.len(), 67);
        assert!(literal.starts_with("x'abab"));
        assert!(literal.ends_with("ab'"));
    }
}
