//! A labelled text input with an optional hint, tied together for screen
//! readers.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub(crate) struct FieldProps {
    /// The input's id; the label and hint refer to it.
    pub(crate) id: AttrValue,
    pub(crate) label: AttrValue,
    #[prop_or(AttrValue::Static("text"))]
    pub(crate) kind: AttrValue,
    #[prop_or_default]
    pub(crate) hint: Option<AttrValue>,
    #[prop_or_default]
    pub(crate) autocomplete: Option<AttrValue>,
    #[prop_or_default]
    pub(crate) autofocus: bool,
    pub(crate) node_ref: NodeRef,
}

#[function_component(Field)]
pub(crate) fn field(props: &FieldProps) -> Html {
    let hint_id = format!("{}-hint", props.id);
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input
                id={props.id.clone()}
                type={props.kind.clone()}
                ref={props.node_ref.clone()}
                autocomplete={props.autocomplete.clone()}
                autofocus={props.autofocus}
                aria-describedby={props.hint.as_ref().map(|_| hint_id.clone())}
            />
            if let Some(hint) = &props.hint {
                <p id={hint_id} class="hint">{ hint.clone() }</p>
            }
        </div>
    }
}
