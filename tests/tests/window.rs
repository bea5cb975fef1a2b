//! The real desktop app in a real WebKitGTK window, driven over WebDriver.
//!
//! Xvfb provides the display, `tauri-driver` fronts WebKitWebDriver, and the
//! app binary is the one `scripts/test.sh` built, with the UI embedded. The
//! suite goes through the first screen as staff would: it sets up the vault
//! (a Tauri command writing an SQLCipher database), locks it, unlocks it, and
//! reads the laptop's name back from the window. Screenshots land in
//! `test-artifacts/`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use satchel_e2e::{TauriDriver, VirtualDisplay, artifact_dir, built_binary};

const LABEL: &str = "Eastside clinic laptop 2";
const PASSPHRASE: &str = "river lantern copper meadow";
/// Generous: the first start of a debug build under Xvfb on a busy machine
/// can be slow, and key derivation is deliberately costly.
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn first_screen_sets_up_and_reopens_the_vault() -> Result<()> {
    let app = built_binary("satchel-app")?;
    let data = tempfile::tempdir()?;
    let display = VirtualDisplay::start()?;
    let driver = TauriDriver::start(&display, &[("SATCHEL_DATA_DIR", data.path())])?;
    let client = connect(&driver, &app).await?;

    let outcome = walk_through_first_screen(&client, data.path()).await;
    // Keep a picture of wherever the walk ended, pass or fail.
    let final_shot = screenshot(&client, "window-final.png").await;
    client
        .close()
        .await
        .context("closing the WebDriver session")?;
    outcome?;
    final_shot
}

async fn walk_through_first_screen(client: &Client, data_dir: &Path) -> Result<()> {
    // A fresh data directory shows the set-up screen.
    let heading = wait_for_text(client, "#setup-form h1", "Set up this laptop").await?;
    ensure!(
        heading == "Set up this laptop",
        "unexpected heading {heading:?}"
    );
    screenshot(client, "window-first-screen.png").await?;

    // A passphrase the vault refuses: the shell's error reaches the page, and
    // nothing is written.
    fill(client, "#device-label-input", LABEL).await?;
    fill(client, "#passphrase-input", "too short").await?;
    fill(client, "#passphrase-confirm-input", "too short").await?;
    click(client, "#setup-submit").await?;
    wait_for_text(client, "#form-error", "at least 12 characters").await?;
    ensure!(
        !data_dir.join("keyring.json").exists(),
        "a refused set-up wrote a keyring"
    );

    // A good one: the command creates the SQLCipher vault and stores the
    // name, and the page shows the name read back from the database.
    fill(client, "#passphrase-input", PASSPHRASE).await?;
    fill(client, "#passphrase-confirm-input", PASSPHRASE).await?;
    click(client, "#setup-submit").await?;
    let shown = wait_for_text(client, "#device-label", LABEL).await?;
    ensure!(shown == LABEL, "the window shows {shown:?}");
    screenshot(client, "window-vault-open.png").await?;

    let header = std::fs::read(data_dir.join("vault.db")).context("reading the vault file")?;
    ensure!(
        header.len() >= 4096,
        "the vault file is smaller than one page"
    );
    ensure!(
        !header.starts_with(b"SQLite format 3"),
        "the vault file is plain SQLite"
    );

    // Lock, then a wrong passphrase is refused and a right one reopens the
    // database, which still holds the name.
    click(client, "#lock-button").await?;
    wait_for_text(client, "#unlock-form h1", "Satchel is locked").await?;
    fill(
        client,
        "#unlock-passphrase-input",
        "not the passphrase at all",
    )
    .await?;
    click(client, "#unlock-submit").await?;
    wait_for_text(client, "#form-error", "does not unlock this vault").await?;

    fill(client, "#unlock-passphrase-input", PASSPHRASE).await?;
    click(client, "#unlock-submit").await?;
    let shown = wait_for_text(client, "#device-label", LABEL).await?;
    ensure!(
        shown == LABEL,
        "after unlocking, the window shows {shown:?}"
    );
    Ok(())
}

async fn connect(driver: &TauriDriver, app: &Path) -> Result<Client> {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), "wry".into());
    capabilities.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app.to_string_lossy() }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url())
        .await
        .context("starting the app through tauri-driver")
}

/// Replaces an input's content with `text`, typed key by key.
async fn fill(client: &Client, css: &str, text: &str) -> Result<()> {
    let input = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await?;
    input.clear().await?;
    input
        .send_keys(text)
        .await
        .with_context(|| format!("typing into {css}"))?;
    Ok(())
}

async fn click(client: &Client, css: &str) -> Result<()> {
    let element = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await?;
    element
        .click()
        .await
        .with_context(|| format!("clicking {css}"))?;
    Ok(())
}

/// Waits until the element at `css` exists and its text contains `needle`,
/// then returns the whole text.
async fn wait_for_text(client: &Client, css: &str, needle: &str) -> Result<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if text.contains(needle) {
                return Ok(text);
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{css} never showed {needle:?}; last text was {last:?}")
}

async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let png = client.screenshot().await.context("taking a screenshot")?;
    let path = artifact_dir()?.join(name);
    std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
