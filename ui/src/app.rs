//! The root component: asks the shell where the vault stands and shows the
//! matching screen.

use satchel_ipc::{VaultState, VaultStatus, command};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::components::{Home, RecoveryCode, Setup, Unlock};
use crate::ipc;
use crate::state::{Action, UiState};

#[function_component(App)]
pub(crate) fn app() -> Html {
    let state = use_reducer(UiState::default);

    // Effects
    {
        let dispatcher = state.dispatcher();
        use_effect_with((), move |_| {
            spawn_local(async move {
                match ipc::call::<VaultStatus>(command::VAULT_STATUS).await {
                    Ok(status) => dispatcher.dispatch(Action::Status(status)),
                    Err(message) => dispatcher.dispatch(Action::Failed(message)),
                }
            });
        });
    }

    let screen = match state.vault_state() {
        None => html! {
            <p class="loading" role="status">{ "Opening Satchel…" }</p>
        },
        Some(VaultState::Absent) => html! { <Setup state={state.clone()} /> },
        Some(VaultState::Locked) => html! { <Unlock state={state.clone()} /> },
        Some(VaultState::Unlocked) if state.recovery_code.is_some() => {
            html! { <RecoveryCode state={state.clone()} /> }
        }
        Some(VaultState::Unlocked) => html! { <Home state={state.clone()} /> },
    };

    html! {
        <div class="app">
            <header class="app-header">
                <span class="brand">{ "Satchel" }</span>
                <span class="tagline">{ "Sealed legal intake" }</span>
            </header>
            <main class="screen">
                { screen }
                if state.vault.is_none() {
                    if let Some(message) = &state.error {
                        <p id="form-error" class="error" role="alert">{ message.clone() }</p>
                    }
                }
            </main>
        </div>
    }
}
