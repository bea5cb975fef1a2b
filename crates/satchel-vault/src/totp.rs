//! Time-based one-time codes (RFC 6238) for the roles that need a second factor.
