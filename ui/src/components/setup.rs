//! First start on a laptop: name it and choose the vault's passphrase.

use satchel_ipc::{CreateVault, command};
use yew::prelude::*;

use super::field::Field;
use super::{ScreenProps, read_value, send_status_command, take_value};
use crate::ipc;

#[function_component(Setup)]
pub(crate) fn setup(props: &ScreenProps) -> Html {
    let label = use_node_ref();
    let passphrase = use_node_ref();
    let confirm = use_node_ref();

    // Callbacks
    let on_submit = {
        let state = props.state.clone();
        let (label, passphrase, confirm) = (label.clone(), passphrase.clone(), confirm.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let request = CreateVault {
                device_label: read_value(&label),
                passphrase: take_value(&passphrase),
            };
            if take_value(&confirm) != request.passphrase {
                state.dispatch(crate::state::Action::Failed(
                    "the two passphrases differ; type the same passphrase in both boxes".to_owned(),
                ));
                return;
            }
            send_status_command(&state, async move {
                ipc::call_with(command::CREATE_VAULT, &request).await
            });
        })
    };

    let busy = props.state.busy;
    html! {
        <form id="setup-form" class="card" onsubmit={on_submit} aria-busy={busy.to_string()}>
            <h1>{ "Set up this laptop" }</h1>
            <p>
                { "Give this laptop a name and choose a passphrase. The passphrase locks every \
                   answer and document kept here. Nobody can look it up for you, so choose one \
                   you will remember." }
            </p>
            <Field id="device-label-input" label="Laptop name" node_ref={label}
                hint="For example: Eastside clinic laptop 2" autofocus=true />
            <Field id="passphrase-input" label="Passphrase" kind="password" node_ref={passphrase}
                autocomplete="new-password"
                hint="At least 12 characters. A few unrelated words work well." />
            <Field id="passphrase-confirm-input" label="Type the passphrase again" kind="password"
                node_ref={confirm} autocomplete="new-password" />
            if let Some(message) = &props.state.error {
                <p id="form-error" class="error" role="alert">{ message.clone() }</p>
            }
            <button id="setup-submit" type="submit" disabled={busy}>
                { if busy { "Setting up…" } else { "Set up" } }
            </button>
        </form>
    }
}
