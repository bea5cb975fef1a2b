//! The screens. Each receives the shared state handle and dispatches
//! [`Action`](crate::state::Action)s as its commands answer.

mod field;
mod home;
mod recovery;
mod setup;
mod unlock;

pub(crate) use home::Home;
pub(crate) use recovery::RecoveryCode;
pub(crate) use setup::Setup;
pub(crate) use unlock::Unlock;

use yew::{Properties, UseReducerHandle};

use crate::state::UiState;

/// Props of every screen: the shared UI state.
#[derive(Properties, PartialEq)]
pub(crate) struct ScreenProps {
    pub(crate) state: UseReducerHandle<UiState>,
}

/// Runs a command that answers with the vault's status, keeping the state
/// in step: busy while it runs, then the new status or the refusal.
pub(crate) fn send_status_command(
    state: &UseReducerHandle<UiState>,
    call: impl std::future::Future<Output = Result<satchel_ipc::VaultStatus, String>> + 'static,
) {
    use crate::state::Action;

    let dispatcher = state.dispatcher();
    dispatcher.dispatch(Action::Started);
    wasm_bindgen_futures::spawn_local(async move {
        match call.await {
            Ok(status) => dispatcher.dispatch(Action::Status(status)),
            Err(message) => dispatcher.dispatch(Action::Failed(message)),
        }
    });
}

/// Reads an input's value and empties it, so a passphrase does not linger
/// in the page after it was sent.
pub(crate) fn take_value(node: &yew::NodeRef) -> String {
    node.cast::<web_sys::HtmlInputElement>()
        .map(|input| {
            let value = input.value();
            input.set_value("");
            value
        })
        .unwrap_or_default()
}

/// Reads an input's value and leaves it in place.
pub(crate) fn read_value(node: &yew::NodeRef) -> String {
    node.cast::<web_sys::HtmlInputElement>()
        .map(|input| input.value())
        .unwrap_or_default()
}
