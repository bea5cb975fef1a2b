//! The policy for new passphrases: length, estimated strength, and not containing the account name.
