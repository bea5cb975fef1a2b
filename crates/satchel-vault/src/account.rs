//! Local accounts: who signs in on this laptop, their recovery codes, and
//! how repeated wrong passphrases are slowed down and then locked out.

use std::collections::BTreeSet;

use satchel_seal::directory::Role;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::Passphrase;

/// The longest account name accepted, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Wrong passphrases allowed in a row before any waiting.
pub const FREE_ATTEMPTS: u32 = 3;
/// Wrong passphrases in a row that lock the account.
pub const LOCKOUT_AFTER: u32 = 10;
/// How long a lockout lasts, in seconds.
pub const LOCKOUT_SECONDS: i64 = 30 * 60;
/// The wait after the last free attempt, doubling with each further one.
const FIRST_DELAY_SECONDS: i64 = 5;
/// How many failure times are remembered for the audit log.
const REMEMBERED_FAILURES: usize = 20;

/// What a new local account is made from.
pub struct NewAccount<'a> {
    /// The name the person signs in with; unique on this laptop.
    pub name: &'a str,
    /// Their member id in the organisation directory.
    pub member_id: &'a str,
    /// Their roles, as the directory lists them.
    pub roles: BTreeSet<Role>,
    /// Their new passphrase.
    pub passphrase: &'a Passphrase,
}

/// A local account, as anyone at the sign-in screen may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// A random id such as `acct-3f9a0c21d4e5b687`.
    pub id: String,
    /// The name the person signs in with.
    pub name: String,
    /// Their member id in the organisation directory.
    pub member_id: String,
    /// Their roles.
    pub roles: BTreeSet<Role>,
    /// Whether signing in needs an authenticator code.
    pub totp_enrolled: bool,
}

impl Account {
    /// Whether the organisation's policy wants this account to sign in with
    /// an authenticator app (its roles meet `totp_roles`) and it has not
    /// enrolled one yet. The app asks for enrollment before anything else.
    pub fn must_enroll_totp(&self, totp_roles: &BTreeSet<Role>) -> bool {
        !self.totp_enrolled && self.roles.iter().any(|role| totp_roles.contains(role))
    }
}

/// A one-time recovery code: shown once, when an account is made or after
/// it was used, and stored only as a second wrap of the account's keys.
///
/// Twenty-five letters and digits in five groups, such as
/// `K7QXM-2RTWA-PL4ZD-6HVNE-C3JYB`: about 125 bits, so it needs no
/// stretching to resist guessing, but it gets the same Argon2id as a
/// passphrase all the same.
pub struct RecoveryCode(Zeroizing<String>);

/// The letters and digits recovery codes use: RFC 4648's base32 alphabet.
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const CODE_CHARS: usize = 25;

impl RecoveryCode {
    pub(crate) fn generate() -> Result<Self> {
        let mut random = Zeroizing::new([0u8; CODE_CHARS]);
        getrandom::fill(random.as_mut()).map_err(|_| Error::Random)?;
        let mut text = Zeroizing::new(String::with_capacity(CODE_CHARS + 4));
        for (index, byte) in random.iter().enumerate() {
            if index > 0 && index % 5 == 0 {
                text.push('-');
            }
            text.push(char::from(CODE_ALPHABET[usize::from(byte & 31)]));
        }
        Ok(Self(text))
    }

    /// Reads a code as a person typed it: case, spaces and dashes do not
    /// matter, and the digits 0, 1 and 8 are read as the letters O, I and
    /// B they are easily mistaken for.
    pub fn parse(typed: &str) -> Result<Self> {
        let mut chars = Zeroizing::new(String::with_capacity(CODE_CHARS));
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                '0' => 'O',
                '1' => 'I',
                '8' => 'B',
                c => c,
            };
            if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) {
                return Err(Error::WrongRecoveryCode);
            }
            chars.push(c);
        }
        if chars.len() != CODE_CHARS {
            return Err(Error::WrongRecoveryCode);
        }
        let mut text = Zeroizing::new(String::with_capacity(CODE_CHARS + 4));
        for (index, c) in chars.chars().enumerate() {
            if index > 0 && index % 5 == 0 {
                text.push('-');
            }
            text.push(c);
        }
        Ok(Self(text))
    }

    /// The code, to show the person once.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Checks an account name and returns it trimmed: 1 to 64 characters of
/// letters, digits, spaces, dots, dashes, underscores and apostrophes.
pub(crate) fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '\'');
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(allowed) {
        return Err(Error::Invalid(format!(
            "an account name must be 1 to {MAX_NAME_CHARS} letters, digits, spaces, dots, dashes or underscores"
        )));
    }
    Ok(name)
}

/// Recent wrong passphrases for one account, kept in the keyring so they
/// survive restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attempts {
    /// Wrong passphrases in a row.
    pub(crate) failed: u32,
    /// When the most recent ones happened (Unix seconds), newest last.
    pub(crate) failures: Vec<i64>,
    /// The end of the current lockout, if any.
    pub(crate) locked_until: Option<i64>,
}

impl Attempts {
    /// Whether a passphrase may be tried at `now`.
    pub(crate) fn check(&self, now: i64) -> Result<()> {
        if let Some(until) = self.locked_until.filter(|until| now < *until) {
            return Err(Error::LockedOut {
                wait_seconds: seconds(until - now),
            });
        }
        if let (Some(delay), Some(last)) = (delay_after(self.failed), self.failures.last()) {
            let ready = last.saturating_add(delay);
            if now < ready {
                return Err(Error::TryAgainLater {
                    wait_seconds: seconds(ready - now),
                });
            }
        }
        Ok(())
    }

    /// Records a wrong passphrase at `now`, locking the account once there
    /// have been [`LOCKOUT_AFTER`] in a row.
    pub(crate) fn record_failure(&mut self, now: i64) {
        self.failed = self.failed.saturating_add(1);
        self.failures.push(now);
        if self.failures.len() > REMEMBERED_FAILURES {
            self.failures.remove(0);
        }
        if self.failed >= LOCKOUT_AFTER {
            self.locked_until = Some(now.saturating_add(LOCKOUT_SECONDS));
        }
    }

    /// Clears the count after a successful sign-in or recovery, returning
    /// the failure times for the audit log.
    pub(crate) fn reset(&mut self) -> Vec<i64> {
        let failures = std::mem::take(&mut self.failures);
        *self = Self::default();
        failures
    }
}

/// The wait before the next try after `failed` wrong passphrases in a row,
/// if any: none for the first [`FREE_ATTEMPTS`], then 5 s doubling up to
/// 320 s; from [`LOCKOUT_AFTER`] on, the lockout governs.
fn delay_after(failed: u32) -> Option<i64> {
    if failed < FREE_ATTEMPTS {
        return None;
    }
    let doublings = (failed - FREE_ATTEMPTS).min(LOCKOUT_AFTER - FREE_ATTEMPTS - 1);
    Some(FIRST_DELAY_SECONDS << doublings)
}

fn seconds(delta: i64) -> u64 {
    u64::try_from(delta).unwrap_or(0).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_then_the_account_locks() {
        let mut attempts = Attempts::default();
        let mut now = 1_000;
        for _ in 0..FREE_ATTEMPTS - 1 {
            attempts.check(now).expect("free attempt");
            attempts.record_failure(now);
        }
        attempts.check(now).expect("the last free attempt");
        attempts.record_failure(now);

        let mut waits = Vec::new();
        while attempts.failed < LOCKOUT_AFTER {
            let Err(Error::TryAgainLater { wait_seconds }) = attempts.check(now) else {
                panic!("a wait after {} failures", attempts.failed);
            };
            waits.push(wait_seconds);
            now += wait_seconds as i64;
            attempts.check(now).expect("allowed once the wait is over");
            attempts.record_failure(now);
        }
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320]);

        let Err(Error::LockedOut { wait_seconds }) = attempts.check(now) else {
            panic!("locked out after {LOCKOUT_AFTER} failures");
        };
        assert_eq!(wait_seconds, LOCKOUT_SECONDS as u64);
        assert!(attempts.check(now + LOCKOUT_SECONDS - 1).is_err());
        attempts
            .check(now + LOCKOUT_SECONDS)
            .expect("the lockout ends");

        // One more wrong passphrase locks it again at once.
        attempts.record_failure(now + LOCKOUT_SECONDS);
        assert!(matches!(
            attempts.check(now + LOCKOUT_SECONDS),
            Err(Error::LockedOut { .. })
        ));

        let failures = attempts.reset();
        assert_eq!(failures.len(), LOCKOUT_AFTER as usize + 1);
        attempts.check(now).expect("a success clears everything");
    }

    #[test]
    fn recovery_codes_parse_as_typed() {
        let code = RecoveryCode::generate().expect("code");
        assert_eq!(code.as_str().len(), 29);
        let typed = code.as_str().to_lowercase().replace('-', " ");
        assert_eq!(
            RecoveryCode::parse(&typed).expect("parses").as_str(),
            code.as_str()
        );
        assert_eq!(
            RecoveryCode::parse("k7qxm 2rtwa pl4zd 6hvne c3jy8")
                .expect("parses")
                .as_str(),
            "K7QXM-2RTWA-PL4ZD-6HVNE-C3JYB"
        );
        for bad in [
            "",
            "K7QXM-2RTWA",
            "K7QXM-2RTWA-PL4ZD-6HVNE-C3JYB-X",
            "K7QXM-2RTWA-PL4ZD-6HVNE-C3JY!",
        ] {
            assert!(matches!(
                RecoveryCode::parse(bad),
                Err(Error::WrongRecoveryCode)
            ));
        }
    }

    #[test]
    fn the_policy_names_who_must_enroll_an_authenticator() {
        let mut account = Account {
            id: "acct-1".to_owned(),
            name: "Ana".to_owned(),
            member_id: "m-ana".to_owned(),
            roles: BTreeSet::from([Role::Attorney]),
            totp_enrolled: false,
        };
        assert!(account.must_enroll_totp(&BTreeSet::from([Role::Attorney, Role::Admin])));
        assert!(!account.must_enroll_totp(&BTreeSet::from([Role::Admin])));
        assert!(!account.must_enroll_totp(&BTreeSet::new()));
        account.totp_enrolled = true;
        assert!(!account.must_enroll_totp(&BTreeSet::from([Role::Attorney])));
    }

    #[test]
    fn account_names_are_checked() {
        assert_eq!(check_name("  Maria López ").expect("ok"), "Maria López");
        assert_eq!(check_name("o'brien.j-2").expect("ok"), "o'brien.j-2");
        for bad in ["", "   ", "line\nbreak", "semi;colon", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
