//! The organisation directory: who belongs, with which keys, under which
//! policies, signed so that nobody in between can forge or roll it back.
//!
//! A directory is a JSON document (the *body*) plus a signature over its
//! RFC 8785 canonical form. The signer is either the organisation's root key
//! or an admin key the root delegated to for a limited time. A holder
//! accepts a directory only if the signature chains to the root it pinned at
//! enrollment, the version is not lower than the one it holds, and it has
//! not expired beyond the policy's grace period.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::age::Recipient;
use crate::canonical;
use crate::error::{Error, Result};
use crate::keys::{KeyId, PublicKey, Purpose, Signature, SigningSecret};

/// The `format` tag of a directory body.
pub const FORMAT: &str = "satchel-directory-v1";
/// The largest signed directory accepted, in bytes.
pub const MAX_DIRECTORY_BYTES: usize = 4 * 1024 * 1024;
/// The longest grace period a policy may grant after expiry.
pub const MAX_GRACE_SECONDS: i64 = 30 * 24 * 60 * 60;

/// What a member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs interviews and sends submissions.
    Intake,
    /// Receives, opens and reviews submissions.
    Attorney,
    /// Manages members, devices and policies; never sees content.
    Admin,
}

/// An X25519 key submissions can be sealed to, valid for a window of time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientKey {
    /// `x25519:` and a hash of the public key; see [`KeyId`].
    pub id: KeyId,
    /// The public key, in age's `age1…` encoding.
    #[serde(with = "recipient_text")]
    pub public: Recipient,
    /// First second (Unix time, UTC) at which senders may seal to it.
    pub not_before: i64,
    /// Last second at which senders may seal to it. Holders keep the private
    /// key a grace period longer, to open what was sealed just before.
    pub not_after: i64,
}

impl RecipientKey {
    /// A key with its id derived from `public`.
    pub fn new(public: Recipient, not_before: i64, not_after: i64) -> Self {
        Self {
            id: recipient_id(&public),
            public,
            not_before,
            not_after,
        }
    }

    /// Whether senders may seal to it at `now`.
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// The id of an X25519 recipient key.
pub fn recipient_id(public: &Recipient) -> KeyId {
    KeyId::derive("x25519", &public.to_bytes())
}

/// A laptop or workstation a member uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Unique within the directory.
    pub id: String,
    /// The device's Ed25519 key: it signs manifests, receipts and sign-ins.
    pub signing_key: PublicKey,
    /// A name staff recognise, such as "Eastside clinic laptop 2".
    pub label: String,
}

/// A person in the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Unique within the directory.
    pub id: String,
    /// How colleagues know them.
    pub display_name: String,
    /// What they may do.
    pub roles: BTreeSet<Role>,
    /// The member's own Ed25519 key.
    pub signing_key: PublicKey,
    /// Their devices.
    pub devices: Vec<Device>,
    /// Keys submissions to them are sealed to, old and new during rotation.
    pub recipient_keys: Vec<RecipientKey>,
}

/// A group of members that can be assigned a submission together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Unique within the directory, and distinct from every member id.
    pub id: String,
    /// How staff know the team.
    pub name: String,
    /// Member ids.
    pub members: Vec<String>,
}

/// Organisation-wide rules that devices enforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// Seal every submission to the escrow key as well.
    pub escrow_required: bool,
    /// Lock an idle app after this many minutes.
    pub idle_lock_minutes: u32,
    /// Roles that must use a second factor.
    pub totp_roles: BTreeSet<Role>,
    /// How long after `expires_at` a directory is still accepted, in
    /// seconds (at most 30 days), so an offline laptop keeps working.
    pub expiry_grace_seconds: i64,
    /// Days a received submission is kept before retention deletes it.
    pub retention_days_received: u32,
    /// Days an unsent draft is kept.
    pub retention_days_drafts: u32,
}

/// The directory's content: the part that is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// Always [`FORMAT`].
    pub format: String,
    /// The organisation's id, chosen when it was created.
    pub org_id: String,
    /// Increases with every published change.
    pub version: u64,
    /// When it was signed (Unix seconds, UTC).
    pub issued_at: i64,
    /// When it stops being valid, before the grace period.
    pub expires_at: i64,
    /// Everyone in the organisation.
    pub members: Vec<Member>,
    /// Named groups of members.
    pub teams: Vec<Team>,
    /// The organisation's escrow key, for recovering submissions whose
    /// attorney lost their key.
    pub escrow: Option<RecipientKey>,
    /// The key audit logs are sealed to.
    pub auditor: Option<RecipientKey>,
    /// Organisation-wide rules.
    pub policies: Policies,
}

/// The root's permission for an admin key to sign directories until a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    /// The organisation it applies to.
    pub org_id: String,
    /// The admin key allowed to sign.
    pub admin_key: PublicKey,
    /// Last second the delegation holds.
    pub not_after: i64,
    /// The root's signature over the canonical form of the three fields
    /// above.
    pub signature: Signature,
}

#[derive(Serialize)]
struct DelegationBody<'a> {
    org_id: &'a str,
    admin_key: &'a PublicKey,
    not_after: i64,
}

impl Delegation {
    /// The root lets `admin_key` sign directories for `org_id` until
    /// `not_after`.
    pub fn issue(
        root: &SigningSecret,
        org_id: &str,
        admin_key: PublicKey,
        not_after: i64,
    ) -> Result<Self> {
        let body = DelegationBody {
            org_id,
            admin_key: &admin_key,
            not_after,
        };
        let signature = root.sign(Purpose::Delegation, &canonical::to_canonical_json(&body)?);
        Ok(Self {
            org_id: org_id.to_owned(),
            admin_key,
            not_after,
            signature,
        })
    }

    fn verify(&self, root: &PublicKey, org_id: &str, now: i64) -> Result<()> {
        let body = DelegationBody {
            org_id: &self.org_id,
            admin_key: &self.admin_key,
            not_after: self.not_after,
        };
        root.verify(
            Purpose::Delegation,
            &canonical::to_canonical_json(&body)?,
            &self.signature,
        )?;
        if self.org_id != org_id {
            return Err(Error::Unauthentic);
        }
        if now > self.not_after {
            return Err(Error::Expired("the admin's signing delegation"));
        }
        Ok(())
    }
}

/// A directory as published: its body and who signed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDirectory {
    /// The body exactly as signed. Kept as parsed JSON so verification
    /// covers what was received, not a re-encoding of it.
    pub body: serde_json::Value,
    /// The key that signed: the root, or the admin key of `delegation`.
    pub signer: PublicKey,
    /// Present when an admin key signed.
    pub delegation: Option<Delegation>,
    /// Signature over the canonical form of `body`.
    pub signature: Signature,
}

/// What a holder already has, to refuse rollbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// The version of the directory held now.
    pub version: u64,
}

impl Directory {
    /// Signs the directory with the root key.
    pub fn sign_as_root(&self, root: &SigningSecret) -> Result<SignedDirectory> {
        self.sign(root, None)
    }

    /// Signs the directory with a delegated admin key.
    pub fn sign_as_admin(
        &self,
        admin: &SigningSecret,
        delegation: Delegation,
    ) -> Result<SignedDirectory> {
        if delegation.admin_key != admin.public() {
            return Err(Error::Invalid(
                "the delegation names a different admin key".to_owned(),
            ));
        }
        self.sign(admin, Some(delegation))
    }

    fn sign(&self, key: &SigningSecret, delegation: Option<Delegation>) -> Result<SignedDirectory> {
        self.check_structure()?;
        let body = serde_json::to_value(self)
            .map_err(|e| Error::Invalid(format!("the directory could not be encoded: {e}")))?;
        let signature = key.sign(Purpose::Directory, &canonical::canonicalize(&body)?);
        Ok(SignedDirectory {
            body,
            signer: key.public(),
            delegation,
            signature,
        })
    }

    /// A member by id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// A device and the member it belongs to, by device id.
    pub fn device(&self, id: &str) -> Option<(&Member, &Device)> {
        self.members
            .iter()
            .find_map(|m| m.devices.iter().find(|d| d.id == id).map(|d| (m, d)))
    }

    /// A team by id.
    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    /// The keys to seal a submission for `assignee` (a member or team id)
    /// to at `now`: for each attorney, the valid key that became valid last,
    /// plus the escrow key when policy requires it.
    pub fn recipients_for(&self, assignee: &str, now: i64) -> Result<Vec<RecipientKey>> {
        let member_ids: Vec<&str> = match (self.member(assignee), self.team(assignee)) {
            (Some(member), _) => vec![member.id.as_str()],
            (None, Some(team)) => team.members.iter().map(String::as_str).collect(),
            (None, None) => {
                return Err(Error::Invalid(format!(
                    "nobody called {assignee:?} is in the directory; check the assignment"
                )));
            }
        };

        let mut keys = Vec::new();
        for id in member_ids {
            let member = self.member(id).ok_or_else(|| {
                Error::Invalid(format!("team member {id:?} is missing from the directory"))
            })?;
            if !member.roles.contains(&Role::Attorney) {
                continue;
            }
            let current = member
                .recipient_keys
                .iter()
                .filter(|k| k.is_valid_at(now))
                .max_by_key(|k| k.not_before)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "{} has no key valid today; ask an admin to publish a new one",
                        member.display_name
                    ))
                })?;
            keys.push(current.clone());
        }
        if keys.is_empty() {
            return Err(Error::Invalid(format!(
                "{assignee:?} includes no attorney to seal to"
            )));
        }
        if self.policies.escrow_required {
            let escrow = self
                .escrow
                .as_ref()
                .filter(|k| k.is_valid_at(now))
                .ok_or_else(|| {
                    Error::Invalid(
                        "policy requires an escrow key but none is valid; contact your admin"
                            .to_owned(),
                    )
                })?;
            keys.push(escrow.clone());
        }
        Ok(keys)
    }

    /// Checks what a signature cannot: ids are unique, teams name real
    /// members, windows and policies are sane.
    fn check_structure(&self) -> Result<()> {
        let bad = |why: String| {
            Err(Error::Invalid(format!(
                "the directory is inconsistent: {why}"
            )))
        };
        if self.format != FORMAT {
            return bad(format!("unknown format {:?}", self.format));
        }
        if self.expires_at <= self.issued_at {
            return bad("it expires before it is issued".to_owned());
        }
        if !(0..=MAX_GRACE_SECONDS).contains(&self.policies.expiry_grace_seconds) {
            return bad("the expiry grace period must be between 0 and 30 days".to_owned());
        }

        let mut ids = BTreeSet::new();
        let mut key_ids = BTreeSet::new();
        for member in &self.members {
            if !ids.insert(member.id.as_str()) {
                return bad(format!("the id {:?} is used twice", member.id));
            }
            for device in &member.devices {
                if !ids.insert(device.id.as_str()) {
                    return bad(format!("the id {:?} is used twice", device.id));
                }
            }
            for key in &member.recipient_keys {
                if key.id != recipient_id(&key.public) {
                    return bad(format!("key id {} does not match its key", key.id));
                }
                if key.not_after < key.not_before {
                    return bad(format!("key {} ends before it starts", key.id));
                }
                if !key_ids.insert(key.id.clone()) {
                    return bad(format!("key {} is listed twice", key.id));
                }
            }
        }
        for team in &self.teams {
            if !ids.insert(team.id.as_str()) {
                return bad(format!("the id {:?} is used twice", team.id));
            }
            if let Some(missing) = team.members.iter().find(|m| self.member(m).is_none()) {
                return bad(format!(
                    "team {:?} lists unknown member {missing:?}",
                    team.id
                ));
            }
        }
        for key in self.escrow.iter().chain(&self.auditor) {
            if key.id != recipient_id(&key.public) {
                return bad(format!("key id {} does not match its key", key.id));
            }
        }
        Ok(())
    }
}

impl SignedDirectory {
    /// Parses a published directory, bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_DIRECTORY_BYTES {
            return Err(Error::Invalid(
                "the directory is larger than 4 MiB".to_owned(),
            ));
        }
        serde_json::from_slice(bytes)
            .map_err(|e| Error::Invalid(format!("this is not a signed directory: {e}")))
    }

    /// The published form.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Invalid(format!("the directory could not be encoded: {e}")))
    }

    /// Verifies the directory for a holder that pinned `root` and holds
    /// `held` (if anything), at time `now`, and returns its content.
    ///
    /// Checks, in order: the signer is the root or a delegated admin whose
    /// delegation the root signed and that has not lapsed; the signature
    /// covers the canonical body; the body is a well-formed directory of
    /// the same organisation as the delegation; its version is not lower
    /// than `held`; it has not expired beyond its grace period.
    pub fn verify(&self, root: &PublicKey, held: Option<Held>, now: i64) -> Result<Directory> {
        // Who may sign: the root itself, or an admin the root delegated to.
        match &self.delegation {
            None if self.signer == *root => {}
            Some(delegation) if delegation.admin_key == self.signer => {
                let org_id = self
                    .body
                    .get("org_id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                delegation.verify(root, org_id, now)?;
            }
            _ => return Err(Error::Unauthentic),
        }
        self.signer.verify(
            Purpose::Directory,
            &canonical::canonicalize(&self.body)?,
            &self.signature,
        )?;

        // Only now is the content trusted enough to read.
        let directory: Directory = serde_json::from_value(self.body.clone())
            .map_err(|e| Error::Invalid(format!("the signed directory is malformed: {e}")))?;
        directory.check_structure()?;

        if let Some(held) = held
            && directory.version < held.version
        {
            return Err(Error::Rollback {
                held: held.version,
                offered: directory.version,
            });
        }
        if now
            > directory
                .expires_at
                .saturating_add(directory.policies.expiry_grace_seconds)
        {
            return Err(Error::Expired("the organisation directory"));
        }
        Ok(directory)
    }
}

/// `age1…` text in JSON for [`Recipient`].
mod recipient_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::age::Recipient;

    pub(super) fn serialize<S: Serializer>(key: &Recipient, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(key)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Recipient, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}
