//! The lock screen: the vault exists and waits for its passphrase.

use satchel_ipc::{UnlockVault, command};
use yew::prelude::*;

use super::field::Field;
use super::{ScreenProps, send_status_command, take_value};
use crate::ipc;

#[function_component(Unlock)]
pub(crate) fn unlock(props: &ScreenProps) -> Html {
    let passphrase = use_node_ref();

    // Callbacks
    let on_submit = {
        let state = props.state.clone();
        let passphrase = passphrase.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let request = UnlockVault {
                passphrase: take_value(&passphrase),
            };
            send_status_command(&state, async move {
                ipc::call_with(command::UNLOCK_VAULT, &request).await
            });
        })
    };

    let busy = props.state.busy;
    html! {
        <form id="unlock-form" class="card" onsubmit={on_submit} aria-busy={busy.to_string()}>
            <h1>{ "Satchel is locked" }</h1>
            <p>{ "Enter your passphrase to open this laptop's vault." }</p>
            <Field id="unlock-passphrase-input" label="Passphrase" kind="password"
                node_ref={passphrase} autocomplete="current-password" autofocus=true />
            if let Some(message) = &props.state.error {
                <p id="form-error" class="error" role="alert">{ message.clone() }</p>
            }
            <button id="unlock-submit" type="submit" disabled={busy}>
                { if busy { "Unlocking…" } else { "Unlock" } }
            </button>
        </form>
    }
}
