//! The UI's state and the actions that change it.

use std::rc::Rc;

use satchel_ipc::{VaultState, VaultStatus};
use yew::Reducible;

/// Which screen is showing, and what the last command said.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct UiState {
    /// The vault as the shell last described it; `None` while loading.
    pub(crate) vault: Option<VaultStatus>,
    /// A command is running; forms are disabled meanwhile.
    pub(crate) busy: bool,
    /// The last refusal, shown beside the form until the next attempt.
    pub(crate) error: Option<String>,
    /// A recovery code just made, shown once until the person confirms they
    /// wrote it down, then forgotten.
    pub(crate) recovery_code: Option<String>,
}

/// Everything that can happen to [`UiState`].
#[derive(Debug)]
pub(crate) enum Action {
    /// A command was sent.
    Started,
    /// The shell answered with the vault's status.
    Status(VaultStatus),
    /// The shell refused, with a message for the person.
    Failed(String),
    /// The vault was set up: its status, and the first account's recovery
    /// code to show once.
    Created {
        /// The new vault's status.
        status: VaultStatus,
        /// The recovery code.
        recovery_code: String,
    },
    /// The person confirmed they wrote the recovery code down.
    RecoveryCodeSeen,
}

impl UiState {
    /// The state of the vault, once known.
    pub(crate) fn vault_state(&self) -> Option<VaultState> {
        self.vault.as_ref().map(|v| v.state)
    }
}

impl Reducible for UiState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Started => {
                next.busy = true;
                next.error = None;
            }
            Action::Status(status) => {
                next.busy = false;
                next.vault = Some(status);
            }
            Action::Failed(message) => {
                next.busy = false;
                next.error = Some(message);
            }
            Action::Created {
                status,
                recovery_code,
            } => {
                next.busy = false;
                next.vault = Some(status);
                next.recovery_code = Some(recovery_code);
            }
            Action::RecoveryCodeSeen => {
                next.recovery_code = None;
            }
        }
        Rc::new(next)
    }
}
