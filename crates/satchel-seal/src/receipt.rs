//! Delivery receipts: the attorney's device's signed word that it opened a
//! submission, sent back to the sender so it can forget its plaintext.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::age::{self, Identity, Recipient};
use crate::canonical;
use crate::directory::Directory;
use crate::envelope::Opened;
use crate::error::{Error, Result};
use crate::keys::{Purpose, Signature, SigningSecret};

/// The `format` tag of a receipt.
pub const FORMAT: &str = "satchel-receipt-v1";
/// The largest receipt accepted, in bytes.
pub const MAX_RECEIPT_BYTES: usize = 16 * 1024;

/// What a receipt states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`FORMAT`].
    pub format: String,
    /// The submission opened.
    pub submission_id: String,
    /// The id of the envelope opened, in lowercase hex (see
    /// [the envelope module](crate::envelope#the-envelope-id)).
    pub envelope_id: String,
    /// When it was opened (Unix seconds, UTC).
    pub opened_at: i64,
    /// The attorney who opened it.
    pub member_id: String,
    /// The device that opened it and signed this receipt.
    pub device_id: String,
}

/// A receipt with its device signature. It travels sealed to the sender
/// (see [`crate::age`]), as canonical JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    /// The statement.
    pub receipt: Receipt,
    /// The receiving device's signature over its canonical form.
    pub signature: Signature,
}

impl Receipt {
    /// The receipt for a verified envelope.
    pub fn for_opened(opened: &Opened, member_id: &str, device_id: &str, now: i64) -> Self {
        Self {
            format: FORMAT.to_owned(),
            submission_id: opened.manifest.submission_id.clone(),
            envelope_id: crate::envelope::hex(&opened.envelope_id),
            opened_at: now,
            member_id: member_id.to_owned(),
            device_id: device_id.to_owned(),
        }
    }

    /// Signs it with the receiving device's key.
    pub fn sign(self, device: &SigningSecret) -> Result<SignedReceipt> {
        let signature = device.sign(Purpose::Receipt, &canonical::to_canonical_json(&self)?);
        Ok(SignedReceipt {
            receipt: self,
            signature,
        })
    }
}

impl SignedReceipt {
    /// Parses a receipt, bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_RECEIPT_BYTES {
            return Err(Error::Unauthentic);
        }
        serde_json::from_slice(bytes).map_err(|_| Error::Unauthentic)
    }

    /// The form sealed to the sender.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        canonical::to_canonical_json(self)
    }

    /// Seals the receipt to the sender's recipient key, as an age file, so
    /// only the sender learns who opened what and when.
    pub fn seal_to(&self, sender: &Recipient) -> Result<Vec<u8>> {
        let mut writer = age::encrypt(std::slice::from_ref(sender), Vec::new())?;
        writer.write_all(&self.to_json()?)?;
        writer.finish()
    }

    /// Opens a sealed receipt with the sender's identities. The result still
    /// has to pass [`verify`](Self::verify).
    pub fn open_sealed(sealed: &[u8], identities: &[Identity]) -> Result<Self> {
        let reader = age::decrypt(identities, sealed)?;
        let mut json = Vec::new();
        reader
            .take(MAX_RECEIPT_BYTES as u64 + 1)
            .read_to_end(&mut json)
            .map_err(|_| Error::Unauthentic)?;
        Self::from_json(&json)
    }

    /// Checks the receipt as the sender of `submission_id`, whose envelope
    /// had the id `envelope_id`: the signing device must be in the
    /// directory under the member named, that member must be an attorney,
    /// and the receipt must be for this very envelope. Any mismatch is
    /// [`Error::Unauthentic`].
    pub fn verify(
        &self,
        directory: &Directory,
        submission_id: &str,
        envelope_id: &[u8; 32],
    ) -> Result<&Receipt> {
        let receipt = &self.receipt;
        let (member, device) = directory
            .device(&receipt.device_id)
            .ok_or(Error::Unauthentic)?;
        if member.id != receipt.member_id
            || !member.roles.contains(&crate::directory::Role::Attorney)
        {
            return Err(Error::Unauthentic);
        }
        device.signing_key.verify(
            Purpose::Receipt,
            &canonical::to_canonical_json(receipt)?,
            &self.signature,
        )?;
        let expected = crate::envelope::hex(envelope_id);
        if receipt.format != FORMAT
            || receipt.submission_id != submission_id
            || receipt.envelope_id != expected
        {
            return Err(Error::Unauthentic);
        }
        Ok(receipt)
    }
}
