//! The lock screen: the vault exists and waits for someone to sign in with
//! their name and passphrase.

use satchel_ipc::{UnlockVault, command};
use yew::prelude::*;

use super::field::Field;
use super::{ScreenProps, read_value, send_status_command, take_value};
use crate::ipc;

#[function_component(Unlock)]
pub(crate) fn unlock(props: &ScreenProps) -> Html {
    let name = use_node_ref();
    let passphrase = use_node_ref();

    let accounts = props
        .state
        .vault
        .as_ref()
        .map(|vault| vault.accounts.clone())
        .unwrap_or_default();
    // With one account on the laptop, its name is filled in. The input is
    // set once, not bound to this value, so whatever is typed over it stays.
    let only_account = match accounts.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    };

    // Effects
    {
        let name = name.clone();
        let only_account = only_account.clone();
        use_effect_with(only_account, move |only_account| {
            if let (Some(account), Some(input)) =
                (only_account, name.cast::<web_sys::HtmlInputElement>())
                && input.value().is_empty()
            {
                input.set_value(account);
            }
        });
    }

    // Callbacks
    let on_submit = {
        let state = props.state.clone();
        let (name, passphrase) = (name.clone(), passphrase.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let request = UnlockVault {
                account_name: read_value(&name),
                passphrase: take_value(&passphrase),
            };
            send_status_command(&state, async move {
                ipc::call_with(command::UNLOCK_VAULT, &request).await
            });
        })
    };

    let busy = props.state.busy;
    let hint = (accounts.len() > 1)
        .then(|| AttrValue::from(format!("Accounts on this laptop: {}.", accounts.join(", "))));
    html! {
        <form id="unlock-form" class="card" onsubmit={on_submit} aria-busy={busy.to_string()}>
            <h1>{ "Satchel is locked" }</h1>
            <p>{ "Enter your name and passphrase to open this laptop's vault." }</p>
            <Field id="unlock-account-input" label="Your name" node_ref={name}
                autocomplete="username" autofocus={only_account.is_none()} hint={hint} />
            <Field id="unlock-passphrase-input" label="Passphrase" kind="password"
                node_ref={passphrase} autocomplete="current-password"
                autofocus={only_account.is_some()} />
            if let Some(message) = &props.state.error {
                <p id="form-error" class="error" role="alert">{ message.clone() }</p>
            }
            <button id="unlock-submit" type="submit" disabled={busy}>
                { if busy { "Unlocking…" } else { "Unlock" } }
            </button>
        </form>
    }
}
