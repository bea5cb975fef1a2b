//! The open vault: who is signed in, which laptop this is, where its data
//! lives, and the lock.

use satchel_ipc::command;
use yew::prelude::*;

use super::{ScreenProps, send_status_command};
use crate::ipc;

#[function_component(Home)]
pub(crate) fn home(props: &ScreenProps) -> Html {
    // Callbacks
    let on_lock = {
        let state = props.state.clone();
        Callback::from(move |_: MouseEvent| {
            send_status_command(&state, ipc::call(command::LOCK_VAULT));
        })
    };

    let Some(vault) = props.state.vault.as_ref() else {
        return Html::default();
    };
    let label = vault
        .device_label
        .clone()
        .unwrap_or_else(|| "(not named)".to_owned());
    let account = vault.account_name.clone().unwrap_or_default();
    html! {
        <section id="home" class="card" aria-labelledby="home-title">
            <h1 id="home-title">{ "The vault is open" }</h1>
            <p class="status" role="status">{ "Everything entered on this laptop is saved encrypted." }</p>
            <dl class="facts">
                <dt>{ "Signed in as" }</dt>
                <dd id="account-name">{ account }</dd>
                <dt>{ "This laptop" }</dt>
                <dd id="device-label">{ label }</dd>
                <dt>{ "Data folder" }</dt>
                <dd id="data-dir"><code>{ vault.data_dir.clone() }</code></dd>
            </dl>
            if let Some(message) = &props.state.error {
                <p id="form-error" class="error" role="alert">{ message.clone() }</p>
            }
            <button id="lock-button" type="button" class="secondary" onclick={on_lock}
                disabled={props.state.busy}>
                { "Lock now" }
            </button>
        </section>
    }
}
