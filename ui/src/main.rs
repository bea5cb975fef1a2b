//! Satchel's user interface, compiled to WebAssembly and shown in the
//! desktop app's window.
//!
//! Everything that touches keys, files or the network happens in the Rust
//! shell; the UI only calls its commands (see [`ipc`]) and renders answers.

#![forbid(unsafe_code)]

mod app;
mod components;
mod ipc;
mod state;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
