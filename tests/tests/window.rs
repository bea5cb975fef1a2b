//! The real desktop app in a real WebKitGTK window, driven over WebDriver.
//!
//! Xvfb provides the display, `tauri-driver` fronts WebKitWebDriver, and the
//! app binary is the one `scripts/test.sh` built, with the UI embedded. The
//! suite goes through the first screens as staff would: it sets up the vault
//! and its first account (a Tauri command writing an SQLCipher database),
//! reads the recovery code shown once, locks the vault, signs in again, and
//! reads the laptop's name back from the window. Screenshots land in
//! `test-artifacts/`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use satchel_e2e::{TauriDriver, VirtualDisplay, artifact_dir, built_binary};

const NAME: &str = "Rosa Diaz";
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

    // Passphrases the vault refuses, one too short and one too easy to
    // guess: the shell's error reaches the page, and nothing is written.
    fill(client, "#account-name-input", NAME).await?;
    fill(client, "#device-label-input", LABEL).await?;
    for (refused, error) in [
        ("too short", "at least 12 characters"),
        ("password1234", "too easy to guess"),
    ] {
        fill(client, "#passphrase-input", refused).await?;
        fill(client, "#passphrase-confirm-input", refused).await?;
        click(client, "#setup-submit").await?;
        wait_for_text(client, "#form-error", error).await?;
        ensure!(
            !data_dir.join("keyring.json").exists(),
            "a refused set-up wrote a keyring"
        );
    }
    screenshot(client, "window-weak-passphrase.png").await?;

    // A good one: the command creates the SQLCipher vault with the first
    // account, and the window shows its recovery code once.
    fill(client, "#passphrase-input", PASSPHRASE).await?;
    fill(client, "#passphrase-confirm-input", PASSPHRASE).await?;
    click(client, "#setup-submit").await?;
    let code = wait_for_text(client, "#recovery-code", "-").await?;
    ensure!(
        is_recovery_code(&code),
        "the window shows {code:?} as the recovery code"
    );
    let advice = wait_for_text(client, "#recovery", "Write it down").await?;
    ensure!(
        advice.contains("away from this laptop"),
        "the recovery screen says {advice:?}"
    );
    screenshot(client, "window-recovery-code.png").await?;
    let keyring = std::fs::read(data_dir.join("keyring.json")).context("reading the keyring")?;
    ensure!(
        !keyring.windows(code.len()).any(|w| w == code.as_bytes()),
        "the recovery code is in the keyring in the clear"
    );

    // Once it is written down, the home screen shows who signed in and
    // the laptop's name read back from the database.
    click(client, "#recovery-code-done").await?;
    let shown = wait_for_text(client, "#device-label", LABEL).await?;
    ensure!(shown == LABEL, "the window shows {shown:?}");
    let account = wait_for_text(client, "#account-name", NAME).await?;
    ensure!(account == NAME, "the window shows {account:?} signed in");
    ensure!(
        client.find(Locator::Css("#recovery-code")).await.is_err(),
        "the recovery code is still on the page"
    );
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

    // Lock: the only account's name is filled in on the sign-in screen.
    click(client, "#lock-button").await?;
    wait_for_text(client, "#unlock-form h1", "Satchel is locked").await?;
    let prefilled = wait_for_value(client, "#unlock-account-input", NAME).await?;
    ensure!(prefilled == NAME, "the account field holds {prefilled:?}");
    screenshot(client, "window-locked.png").await?;

    // A name with no account, then a wrong passphrase, are refused; the
    // right name and passphrase reopen the database, which still holds the
    // laptop's name.
    fill(client, "#unlock-account-input", "Nobody Here").await?;
    fill(client, "#unlock-passphrase-input", PASSPHRASE).await?;
    click(client, "#unlock-submit").await?;
    wait_for_text(client, "#form-error", "no account named \"Nobody Here\"").await?;

    fill(client, "#unlock-account-input", NAME).await?;
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
    wait_for_text(client, "#account-name", NAME).await?;
    Ok(())
}

/// Whether `text` looks like a recovery code: five groups of five base32
/// letters and digits, joined by dashes.
fn is_recovery_code(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().all(|group| {
            group.len() == 5
                && group
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        })
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

/// Waits until the input at `css` holds exactly `expected`, then returns
/// it.
async fn wait_for_value(client: &Client, css: &str, expected: &str) -> Result<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(value) = element.prop("value").await
        {
            if value.as_deref() == Some(expected) {
                return Ok(expected.to_owned());
            }
            last = value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{css} never held {expected:?}; last value was {last:?}")
}

async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let png = client.screenshot().await.context("taking a screenshot")?;
    let path = artifact_dir()?.join(name);
    std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
