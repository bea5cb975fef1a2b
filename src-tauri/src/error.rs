//! Turning the crates' errors into what the UI shows.

use satchel_ipc::CommandError as Wire;

/// A command's failure. It serializes to [`satchel_ipc::CommandError`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct CommandError {
    message: String,
}

impl CommandError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl From<satchel_vault::Error> for CommandError {
    fn from(error: satchel_vault::Error) -> Self {
        // The vault's messages already say what to do and never carry a
        // secret or content, so they can be shown as they are. Database
        // internals are logged for support and summarised for people.
        match error {
            satchel_vault::Error::Database(detail) => {
                tracing::error!(error = %detail, "vault database error");
                Self::new(
                    "the vault could not complete that; try again, and if it keeps failing, contact support",
                )
            }
            // The message repeats the name that was typed, which is a
            // person's name: show it, but keep it out of the log.
            unknown @ satchel_vault::Error::UnknownAccount(_) => {
                tracing::warn!("vault command refused: no account has the name typed");
                Self::new(unknown.to_string())
            }
            other => {
                tracing::warn!(error = %other, "vault command refused");
                Self::new(other.to_string())
            }
        }
    }
}

impl serde::Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            message: self.message.clone(),
        }
        .serialize(serializer)
    }
}
