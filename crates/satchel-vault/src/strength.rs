//! The policy for new passphrases: length, estimated strength, and not
//! containing the account name.
//!
//! Strength is estimated with zxcvbn, which looks for dictionary words,
//! common passwords, keyboard patterns, dates and repeats, and scores a
//! passphrase by roughly how many guesses an attacker would need.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{MIN_PASSPHRASE_CHARS, Passphrase};

/// The longest passphrase accepted, in characters.
const MAX_PASSPHRASE_CHARS: usize = 1024;

/// How much of a passphrase the strength estimate looks at, in characters.
/// The estimate is slow on very long input, and a passphrase this long that
/// is weak in its first part is still weak.
const ESTIMATE_CHARS: usize = 256;

/// The shortest account name, in characters, that the passphrase is checked
/// against. Shorter names would refuse too many good passphrases by chance.
const MIN_NAME_CHARS: usize = 3;

/// Words tied to this application that make a passphrase easier to guess.
const APP_WORDS: [&str; 3] = ["satchel", "legal", "aid"];

/// Checks a new passphrase for `account_name` against the policy.
///
/// The rules, checked in this order:
///
/// 1. at most 1024 characters;
/// 2. at least [`MIN_PASSPHRASE_CHARS`] characters (counted as characters,
///    not bytes);
/// 3. does not contain the account name, ignoring case and surrounding
///    spaces, when the name has at least 3 characters;
/// 4. zxcvbn rates it at least 3 out of 4 ("safely unguessable"), with the
///    account name and the words "satchel", "legal" and "aid" counted as
///    easy to guess. Only the first 256 characters are rated.
///
/// # Errors
///
/// [`Error::Invalid`] when it is too long, [`Error::PassphraseTooShort`]
/// when it is too short, and [`Error::WeakPassphrase`] with a sentence
/// saying what to change when it contains the account name or is too easy
/// to guess.
pub fn check_new_passphrase(passphrase: &Passphrase, account_name: &str) -> Result<()> {
    let text = passphrase.as_str();

    let chars = text.chars().count();
    if chars > MAX_PASSPHRASE_CHARS {
        return Err(Error::Invalid(format!(
            "the passphrase is too long: use at most {MAX_PASSPHRASE_CHARS} characters"
        )));
    }
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(Error::PassphraseTooShort {
            min: MIN_PASSPHRASE_CHARS,
        });
    }

    let name = account_name.trim();
    if name.chars().count() >= MIN_NAME_CHARS {
        let lowered = Zeroizing::new(text.to_lowercase());
        if lowered.contains(&name.to_lowercase()) {
            return Err(Error::WeakPassphrase(
                "the passphrase must not contain your account name; choose another".to_owned(),
            ));
        }
    }

    let mut user_inputs: Vec<&str> = APP_WORDS.to_vec();
    if !name.is_empty() {
        user_inputs.push(name);
    }
    let entropy = zxcvbn::zxcvbn(first_chars(text, ESTIMATE_CHARS), &user_inputs);
    if entropy.score() < zxcvbn::Score::Three {
        return Err(Error::WeakPassphrase(weak_message(entropy.feedback())));
    }
    Ok(())
}

/// The first `limit` characters of `text`, without copying it.
fn first_chars(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A sentence explaining why a passphrase was rated weak and what to do.
fn weak_message(feedback: Option<&zxcvbn::feedback::Feedback>) -> String {
    const LEAD: &str = "this passphrase is too easy to guess";
    const FALLBACK: &str = "add more words that are not a common phrase";

    let warning = feedback.and_then(zxcvbn::feedback::Feedback::warning);
    let suggestion = feedback.and_then(|feedback| feedback.suggestions().first());
    match (warning, suggestion) {
        (Some(warning), Some(suggestion)) => {
            format!("{LEAD}: {}. {suggestion}", as_clause(&warning.to_string()))
        }
        (Some(warning), None) => {
            let warning = as_clause(&warning.to_string());
            format!("{LEAD}: {warning}. Add more words that are not a common phrase.")
        }
        (None, Some(suggestion)) => format!("{LEAD}. {suggestion}"),
        (None, None) => format!("{LEAD}: {FALLBACK}"),
    }
}

/// Turns a stand-alone sentence ("This is a very common password.") into a
/// clause that can follow a colon ("this is a very common password").
fn as_clause(sentence: &str) -> String {
    let trimmed = sentence.trim().trim_end_matches('.');
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, account: &str) -> Result<()> {
        check_new_passphrase(&Passphrase::new(text.to_owned()), account)
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert!(matches!(
            check("short one", "ana"),
            Err(Error::PassphraseTooShort { min: 12 })
        ));
        // Eleven characters but more than twelve bytes.
        assert!(matches!(
            check("ñññññññññññ", "ana"),
            Err(Error::PassphraseTooShort { min: 12 })
        ));
    }

    #[test]
    fn over_long_passphrases_are_refused() {
        let long = "violet tractor quietly umbrella 42 ".repeat(30);
        assert!(long.chars().count() > 1024);
        match check(&long, "ana") {
            Err(Error::Invalid(message)) => assert_eq!(
                message,
                "the passphrase is too long: use at most 1024 characters"
            ),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn passphrases_containing_the_account_name_are_refused() {
        let expected = "the passphrase must not contain your account name; choose another";
        for (text, account) in [
            ("violet rosalind tractor quietly", "rosalind"),
            ("violet ROSALIND tractor quietly", "  Rosalind "),
            ("violetrosalindtractorquietly", "RoSaLiNd"),
        ] {
            match check(text, account) {
                Err(Error::WeakPassphrase(message)) => assert_eq!(message, expected),
                other => panic!("expected WeakPassphrase for {text:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn very_short_account_names_are_not_checked() {
        assert!(check("violet tractor quietly umbrella 42", "vi").is_ok());
        assert!(check("violet tractor quietly umbrella 42", "   ").is_ok());
    }

    #[test]
    fn common_passwords_are_refused_as_weak() {
        for text in ["password1234", "qwertyuiopasdf", "123456789012"] {
            match check(text, "ana") {
                Err(Error::WeakPassphrase(message)) => {
                    assert!(
                        message.starts_with("this passphrase is too easy to guess"),
                        "{message}"
                    );
                }
                other => panic!("expected WeakPassphrase for {text:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn weak_passphrases_say_what_is_wrong() {
        match check("password1234", "ana") {
            Err(Error::WeakPassphrase(message)) => assert_eq!(
                message,
                "this passphrase is too easy to guess: this is a very common password. \
                 Add another word or two. Uncommon words are better."
            ),
            other => panic!("expected WeakPassphrase, got {other:?}"),
        }
    }

    #[test]
    fn application_words_are_easy_to_guess() {
        match check("satchellegal", "ana") {
            Err(Error::WeakPassphrase(message)) => assert_eq!(
                message,
                "this passphrase is too easy to guess. Add another word or two. \
                 Uncommon words are better."
            ),
            other => panic!("expected WeakPassphrase, got {other:?}"),
        }
    }

    #[test]
    fn random_words_are_accepted() {
        assert!(check("correct horse battery staple", "ana").is_ok());
        assert!(check("violet tractor quietly umbrella 42", "ana").is_ok());
    }

    #[test]
    fn a_1024_character_passphrase_is_checked() {
        let text: String = "violet tractor quietly umbrella 42 "
            .chars()
            .cycle()
            .take(1024)
            .collect();
        assert_eq!(text.chars().count(), 1024);
        assert!(check(&text, "ana").is_ok());
    }

    #[test]
    fn weak_messages_are_sentences() {
        assert_eq!(
            weak_message(None),
            "this passphrase is too easy to guess: add more words that are not a common phrase"
        );
        assert_eq!(
            as_clause("This is a very common password."),
            "this is a very common password"
        );
    }

    #[test]
    fn first_chars_cuts_on_character_boundaries() {
        assert_eq!(first_chars("ñandú", 2), "ña");
        assert_eq!(first_chars("abc", 10), "abc");
    }
}
