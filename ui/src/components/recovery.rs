//! The recovery code, shown once right after it is made.

use yew::prelude::*;

use super::ScreenProps;
use crate::state::Action;

#[function_component(RecoveryCode)]
pub(crate) fn recovery_code(props: &ScreenProps) -> Html {
    // Callbacks
    let on_done = {
        let state = props.state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::RecoveryCodeSeen))
    };

    let Some(code) = props.state.recovery_code.clone() else {
        return Html::default();
    };
    html! {
        <section id="recovery" class="card" aria-labelledby="recovery-title">
            <h1 id="recovery-title">{ "Write down your recovery code" }</h1>
            <p>
                { "If you ever forget your passphrase, this code is the only way back into your \
                   account. Write it down on paper now and keep it somewhere safe, away from this \
                   laptop. It will not be shown again." }
            </p>
            <p id="recovery-code" class="recovery-code">{ code }</p>
            <p>
                { "Anyone who has this code and this laptop can set a new passphrase for your \
                   account, so do not keep the two together." }
            </p>
            <button id="recovery-code-done" type="button" onclick={on_done} autofocus=true>
                { "I have written it down" }
            </button>
        </section>
    }
}
