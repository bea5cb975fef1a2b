//! Joining an organisation: the admin's enrollment bundle, and the key
//! request a new device sends back.
//!
//! The admin hands each person a bundle (by USB stick, QR code or in
//! person). It pins the organisation's root key and the relay, and carries a
//! one-time token. The device then creates its keys and answers with a key
//! request signed by both new keys. Before approving, the admin and the
//! person read each other the request's [`safety_code`], so a request
//! swapped in transit is caught.

use serde::{Deserialize, Serialize};

use crate::age::Recipient;
use crate::canonical;
use crate::error::{Error, Result, random};
use crate::keys::{PublicKey, Purpose, Signature, SigningSecret, safety_code};

/// The `format` tag of a bundle body.
pub const BUNDLE_FORMAT: &str = "satchel-enrollment-v1";
/// The `format` tag of a key request body.
pub const REQUEST_FORMAT: &str = "satchel-key-request-v1";
/// The largest bundle or request accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// What a bundle tells a new device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The organisation's id.
    pub org_id: String,
    /// The organisation's root key, which every directory must chain to.
    pub root_key: PublicKey,
    /// Where the relay listens, such as `https://relay.example.org:8443`.
    pub relay_url: String,
    /// SHA-256 of the relay's TLS public key (SPKI), in unpadded base64.
    pub relay_tls_pin: String,
    /// The member this bundle enrolls.
    pub member_id: String,
    /// A one-time secret the relay accepts once, for this member's key
    /// request.
    pub token: String,
    /// Last second the bundle may be used.
    pub expires_at: i64,
}

/// A bundle with the root's signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedBundle {
    /// The bundle.
    pub bundle: Bundle,
    /// The root's signature over the bundle's canonical form.
    pub signature: Signature,
}

impl Bundle {
    /// A fresh random one-time token, 32 bytes in unpadded base64url.
    pub fn new_token() -> Result<String> {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        random(&mut bytes)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Signs the bundle with the organisation's root key, which must be the
    /// one the bundle names.
    pub fn sign(self, root: &SigningSecret) -> Result<SignedBundle> {
        if root.public() != self.root_key {
            return Err(Error::Invalid(
                "the bundle names a different root key".to_owned(),
            ));
        }
        let signature = root.sign(
            Purpose::EnrollmentBundle,
            &canonical::to_canonical_json(&self)?,
        );
        Ok(SignedBundle {
            bundle: self,
            signature,
        })
    }
}

impl SignedBundle {
    /// Parses a bundle file, bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        parse(bytes, "an enrollment bundle")
    }

    /// Checks the root's signature and the expiry, and returns the bundle.
    /// The root key is the bundle's own: what makes it trustworthy is that
    /// the bundle came from the admin by hand, and the person can compare
    /// the root's safety code with the admin's.
    pub fn verify(&self, now: i64) -> Result<&Bundle> {
        let bundle = &self.bundle;
        bundle.root_key.verify(
            Purpose::EnrollmentBundle,
            &canonical::to_canonical_json(bundle)?,
            &self.signature,
        )?;
        if bundle.format != BUNDLE_FORMAT {
            return Err(Error::Invalid(
                "this enrollment bundle's format is unknown".to_owned(),
            ));
        }
        if now > bundle.expires_at {
            return Err(Error::Expired("this enrollment bundle"));
        }
        Ok(bundle)
    }
}

/// What a new device asks the admin to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// Always [`REQUEST_FORMAT`].
    pub format: String,
    /// The organisation's id, from the bundle.
    pub org_id: String,
    /// The member enrolling, from the bundle.
    pub member_id: String,
    /// The bundle's one-time token.
    pub token: String,
    /// The id the device proposes for itself.
    pub device_id: String,
    /// A name staff recognise.
    pub device_label: String,
    /// The new device's signing key.
    pub device_key: PublicKey,
    /// The member's signing key.
    pub member_key: PublicKey,
    /// The member's first recipient key, `age1…`.
    pub recipient: String,
    /// When the request was made (Unix seconds, UTC).
    pub created_at: i64,
}

/// A key request signed by both of its new signing keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedKeyRequest {
    /// The request.
    pub request: KeyRequest,
    /// The device key's signature over the request's canonical form.
    pub device_signature: Signature,
    /// The member key's signature over the same bytes.
    pub member_signature: Signature,
}

impl KeyRequest {
    /// Signs the request with the new device and member keys, which must be
    /// the ones it names.
    pub fn sign(self, device: &SigningSecret, member: &SigningSecret) -> Result<SignedKeyRequest> {
        if device.public() != self.device_key || member.public() != self.member_key {
            return Err(Error::Invalid(
                "the key request names different keys".to_owned(),
            ));
        }
        self.recipient_key()?;
        let bytes = canonical::to_canonical_json(&self)?;
        Ok(SignedKeyRequest {
            device_signature: device.sign(Purpose::KeyRequest, &bytes),
            member_signature: member.sign(Purpose::KeyRequest, &bytes),
            request: self,
        })
    }

    /// The recipient key, parsed.
    pub fn recipient_key(&self) -> Result<Recipient> {
        self.recipient.parse()
    }

    /// The code the admin and the person compare: over the device key, the
    /// member key and the recipient key, in that order.
    pub fn safety_code(&self) -> Result<String> {
        let recipient = self.recipient_key()?.to_bytes();
        Ok(safety_code(&[
            &self.device_key.to_bytes(),
            &self.member_key.to_bytes(),
            &recipient,
        ]))
    }
}

impl SignedKeyRequest {
    /// Parses a key request file, bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        parse(bytes, "a key request")
    }

    /// Checks both signatures and returns the request. Whether its token
    /// and member are expected is the admin's (and the relay's) decision.
    pub fn verify(&self) -> Result<&KeyRequest> {
        let request = &self.request;
        let bytes = canonical::to_canonical_json(request)?;
        request
            .device_key
            .verify(Purpose::KeyRequest, &bytes, &self.device_signature)?;
        request
            .member_key
            .verify(Purpose::KeyRequest, &bytes, &self.member_signature)?;
        if request.format != REQUEST_FORMAT {
            return Err(Error::Invalid(
                "this key request's format is unknown".to_owned(),
            ));
        }
        request.recipient_key()?;
        Ok(request)
    }
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::Invalid(format!(
            "{what} cannot be larger than 64 KiB"
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| Error::Invalid(format!("this is not {what}: {e}")))
}
