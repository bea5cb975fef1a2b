//! First start on a laptop: the first person's name, the laptop's name and
//! their passphrase.

use satchel_ipc::{CreateVault, VaultCreated, command};
use yew::prelude::*;

use super::field::Field;
use super::{ScreenProps, read_value, take_value};
use crate::ipc;
use crate::state::Action;

#[function_component(Setup)]
pub(crate) fn setup(props: &ScreenProps) -> Html {
    let name = use_node_ref();
    let label = use_node_ref();
    let passphrase = use_node_ref();
    let confirm = use_node_ref();

    // Callbacks
    let on_submit = {
        let state = props.state.clone();
        let (name, label) = (name.clone(), label.clone());
        let (passphrase, confirm) = (passphrase.clone(), confirm.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let request = CreateVault {
                account_name: read_value(&name),
                device_label: read_value(&label),
                passphrase: take_value(&passphrase),
            };
            if take_value(&confirm) != request.passphrase {
                state.dispatch(Action::Failed(
                    "the two passphrases differ; type the same passphrase in both boxes".to_owned(),
                ));
                return;
            }
            let dispatcher = state.dispatcher();
            dispatcher.dispatch(Action::Started);
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::call_with::<_, VaultCreated>(command::CREATE_VAULT, &request).await {
                    Ok(VaultCreated {
                        status,
                        recovery_code,
                    }) => dispatcher.dispatch(Action::Created {
                        status,
                        recovery_code,
                    }),
                    Err(message) => dispatcher.dispatch(Action::Failed(message)),
                }
            });
        })
    };

    let busy = props.state.busy;
    html! {
        <form id="setup-form" class="card" onsubmit={on_submit} aria-busy={busy.to_string()}>
            <h1>{ "Set up this laptop" }</h1>
            <p>
                { "Enter your name, give this laptop a name and choose a passphrase. The \
                   passphrase locks every answer and document kept here. Nobody can look it up \
                   for you, so choose one you will remember." }
            </p>
            <Field id="account-name-input" label="Your name" node_ref={name}
                autocomplete="name" autofocus=true
                hint="You sign in with this name. For example: Rosa Díaz" />
            <Field id="device-label-input" label="Laptop name" node_ref={label}
                hint="For example: Eastside clinic laptop 2" />
            <Field id="passphrase-input" label="Passphrase" kind="password" node_ref={passphrase}
                autocomplete="new-password"
                hint="At least 12 characters and hard to guess: a few unrelated words work \
                      well. Do not use your name." />
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
