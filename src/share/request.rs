//! Requests from the people who joined: a signed object at `<incident>/requests/<id>.json`.
//!
//! ```json
//! {"format":"warroom-request","version":1,
//!  "signed":"{\"incident\":\"...\",\"id\":\"...\",\"principal\":\"bob@example\",\"role\":\"scribe\",\"sequence\":12,\"request\":{\"kind\":\"note\",\"text\":\"...\"},\"evidence_sha256\":null}",
//!  "signature":"-----BEGIN SSH SIGNATURE-----\n...\n-----END SSH SIGNATURE-----\n"}
//! ```
//!
//! `signed` is the exact text signed (SSHSIG, namespace `warroom`): the incident, the request's
//! id, who and in which role, the journal sequence the requester had seen, the content and the
//! digest of the evidence it was made on. The driver checks the signature against the roster,
//! the role against the environment's `[share.roles]`, the id against the object's name; the
//! engine then refuses a replay (an id already taken, or a sequence older than one already
//! taken from the same key). Nothing but the driver writes the journal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::sig::{Roster, Signer, VerifyError};

/// What someone who joined may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads only.
    Observer,
    /// Adds notes and marks milestones.
    Scribe,
    /// Approves steps.
    Approver,
    /// Runs steps (the driver).
    Commander,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Observer => "observer",
            Role::Scribe => "scribe",
            Role::Approver => "approver",
            Role::Commander => "commander",
        }
    }
    /// Whether this role may make `body`.
    pub fn may(self, body: &Body) -> bool {
        match body {
            Body::Note { .. } | Body::Milestone { .. } => {
                matches!(self, Role::Scribe | Role::Commander)
            }
            Body::Approve { .. } => self == Role::Approver,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "observer" => Ok(Role::Observer),
            "scribe" => Ok(Role::Scribe),
            "approver" => Ok(Role::Approver),
            "commander" => Ok(Role::Commander),
            _ => Err(format!(
                "{}: not a role (observer, scribe, approver, commander)",
                crate::text::echo(s)
            )),
        }
    }
}

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A note for the journal.
    Note { text: String },
    /// A milestone reached ("customer comms sent").
    Milestone { text: String },
    /// Approve the arming `armed` (its digest, from `approval_armed`) of step `step`, typing
    /// the resource's name as the driver did.
    Approve {
        step: String,
        armed: String,
        resource: String,
    },
}

/// The signed part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub incident: String,
    pub id: String,
    pub principal: String,
    pub role: Role,
    /// The journal sequence number the requester had seen when signing.
    pub sequence: u64,
    pub request: Body,
    /// SHA-256 (hex) of the evidence the request was made on, if any.
    pub evidence_sha256: Option<String>,
}

/// The object in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestObject {
    pub format: String,
    pub version: u32,
    /// The exact text signed: [`Payload`] as JSON.
    pub signed: String,
    /// SSHSIG, PEM armoured; empty when unsigned.
    #[serde(default)]
    pub signature: String,
}

pub const FORMAT: &str = "warroom-request";

/// A request whose signature, signer and role hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub payload: Payload,
    /// `SHA256:...` of the key that signed.
    pub fingerprint: String,
    pub signed: String,
    pub signature: String,
}

/// Why a request was refused before the engine saw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a warroom request: {0}")]
    Malformed(String),
    #[error("unsigned: every request must carry an SSH signature")]
    Unsigned,
    #[error("{0}")]
    Signature(VerifyError),
    #[error("signed for incident {signed}, not this one")]
    WrongIncident { signed: String },
    #[error("tampered: the object's name says {name}, the signature says {signed}")]
    NameMismatch { name: String, signed: String },
    #[error("{principal} may not act as {role} (the environment's [share.roles] gives {held})")]
    RoleNotHeld {
        principal: String,
        role: String,
        held: String,
    },
    #[error("a {role} may not make a {kind} request")]
    OutOfRole { role: String, kind: String },
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Note { .. } => "note",
            Body::Milestone { .. } => "milestone",
            Body::Approve { .. } => "approval",
        }
    }
}

/// Builds and signs a request object (its JSON bytes).
pub fn sign(payload: &Payload, signer: &Signer) -> Result<Vec<u8>, super::sig::SignError> {
    let signed =
        serde_json::to_string(payload).map_err(|e| super::sig::SignError::Sign(e.to_string()))?;
    let signature = signer.sign(signed.as_bytes())?;
    let object = RequestObject {
        format: FORMAT.into(),
        version: 1,
        signed,
        signature,
    };
    serde_json::to_vec(&object).map_err(|e| super::sig::SignError::Sign(e.to_string()))
}

/// Checks a request object found at `requests/<name>.json` for `incident`: format, signature
/// against the roster, the name against the signed id, the role against `roles`.
pub fn check(
    name: &str,
    bytes: &[u8],
    incident: &str,
    roster: &Roster,
    roles: &BTreeMap<String, Vec<Role>>,
) -> Result<Checked, Refusal> {
    let object: RequestObject = serde_json::from_slice(bytes)
        .map_err(|e| Refusal::Malformed(crate::text::echo(&e.to_string())))?;
    if object.format != FORMAT {
        return Err(Refusal::Malformed(format!(
            "format {}",
            crate::text::echo(&object.format)
        )));
    }
    let payload: Payload = serde_json::from_str(&object.signed)
        .map_err(|e| Refusal::Malformed(crate::text::echo(&e.to_string())))?;
    if object.signature.trim().is_empty() {
        return Err(Refusal::Unsigned);
    }
    let verified = roster
        .verify(
            &payload.principal,
            object.signed.as_bytes(),
            &object.signature,
        )
        .map_err(Refusal::Signature)?;
    if payload.id != name {
        return Err(Refusal::NameMismatch {
            name: crate::text::echo(name),
            signed: crate::text::echo(&payload.id),
        });
    }
    if payload.incident != incident {
        return Err(Refusal::WrongIncident {
            signed: crate::text::echo(&payload.incident),
        });
    }
    let held = roles.get(&payload.principal).cloned().unwrap_or_default();
    if !held.contains(&payload.role) {
        return Err(Refusal::RoleNotHeld {
            principal: crate::text::echo(&payload.principal),
            role: payload.role.name().into(),
            held: if held.is_empty() {
                "no role".into()
            } else {
                held.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
            },
        });
    }
    if !payload.role.may(&payload.request) {
        return Err(Refusal::OutOfRole {
            role: payload.role.name().into(),
            kind: payload.request.kind().into(),
        });
    }
    Ok(Checked {
        payload,
        fingerprint: verified.fingerprint,
        signed: object.signed,
        signature: object.signature,
    })
}

/// The principal a request claims, read without checking anything (for a refusal's record).
pub fn claimed_principal(bytes: &[u8]) -> Option<String> {
    let object: RequestObject = serde_json::from_slice(bytes).ok()?;
    let payload: Payload = serde_json::from_str(&object.signed).ok()?;
    Some(payload.principal)
}

/// A new request id: time, then who, then randomness (sorts by time in the store).
pub fn new_id(principal: &str, now: chrono::DateTime<chrono::Utc>, nonce: u64) -> String {
    let who: String = principal
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!("{}-{who}-{nonce:016x}", now.format("%Y%m%dT%H%M%S%3fZ"))
}

/// Who sends requests from this machine: the key that signs, the principal it signs as and the
/// role it acts in (the CLI's `warroom request` and the join console share it).
pub struct Requester {
    pub signer: std::sync::Arc<Signer>,
    pub principal: String,
    pub role: Role,
}

/// Why a request could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Sign(#[from] super::sig::SignError),
    #[error("the request could not be put: {0}")]
    Store(#[from] super::store::StoreError),
    #[error("the request id {0} is taken in the store (try again)")]
    Taken(String),
}

/// Signs `body` as `requester`, having seen journal event `sequence` of `incident`, and puts it
/// at `requests/<id>.json` (create-only). Returns the request's id. The one path every request
/// takes (`warroom request`, the join console's keys).
pub async fn send(
    store: &dyn super::store::Store,
    keys: &super::IncidentKeys,
    incident: &str,
    requester: &Requester,
    sequence: u64,
    body: Body,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, SendError> {
    let id = new_id(&requester.principal, now, nonce());
    let payload = Payload {
        incident: incident.to_string(),
        id: id.clone(),
        principal: requester.principal.clone(),
        role: requester.role,
        sequence,
        request: body,
        evidence_sha256: None,
    };
    // Signing may ask an ssh-agent (socket I/O): off the async threads.
    let signer = std::sync::Arc::clone(&requester.signer);
    let bytes = tokio::task::spawn_blocking(move || sign(&payload, &signer))
        .await
        .map_err(|e| super::sig::SignError::Sign(e.to_string()))??;
    match store.put_new(keys.request(&id), bytes).await? {
        super::store::Put::Created => Ok(id),
        super::store::Put::Exists => Err(SendError::Taken(id)),
    }
}

/// Randomness for a request id (the time and the process, hashed with a random key).
pub fn nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// The driver's verdict on a request, as its journal records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Taken into the journal (`shared_note`, `approved`).
    Taken,
    /// Refused (`request_refused`), and why.
    Refused(String),
}

/// Whether an event line of the shared log is the verdict on request `id`.
pub fn verdict_in(line: &[u8], id: &str) -> Option<Verdict> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    match v.get("kind")?.as_str()? {
        "shared_note" | "approved" if v.pointer("/by/request")?.as_str()? == id => {
            Some(Verdict::Taken)
        }
        "request_refused" if v.get("request")?.as_str()? == id => Some(Verdict::Refused(
            v.get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("no reason")
                .to_string(),
        )),
        _ => None,
    }
}

/// The same verdict, read from an event the follower decoded.
pub fn verdict_of(event: &crate::playbook::Event, id: &str) -> Option<Verdict> {
    use crate::playbook::Event;
    match event {
        Event::SharedNote { by, .. } | Event::Approved { by, .. } if by.request == id => {
            Some(Verdict::Taken)
        }
        Event::RequestRefused {
            request, reason, ..
        } if request == id => Some(Verdict::Refused(reason.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(alice: &Signer, bob: &Signer) -> Roster {
        Roster::parse(
            "roster",
            &format!(
                "# the war room\nalice@example {}\nbob@example,bob2 namespaces=\"warroom\" {} bob's key\n",
                alice.public_openssh(),
                bob.public_openssh()
            ),
        )
        .expect("roster")
    }

    fn roles() -> BTreeMap<String, Vec<Role>> {
        BTreeMap::from([
            ("alice@example".to_string(), vec![Role::Commander]),
            (
                "bob@example".to_string(),
                vec![Role::Scribe, Role::Approver],
            ),
        ])
    }

    fn payload(principal: &str, role: Role, id: &str) -> Payload {
        Payload {
            incident: "inc".into(),
            id: id.into(),
            principal: principal.into(),
            role,
            sequence: 7,
            request: Body::Note {
                text: "customer comms sent".into(),
            },
            evidence_sha256: None,
        }
    }

    #[test]
    fn a_signed_request_is_checked_and_every_kind_of_bad_one_is_refused_with_its_reason() {
        let alice = Signer::from_seed([1; 32]);
        let bob = Signer::from_seed([2; 32]);
        let mallory = Signer::from_seed([3; 32]);
        let roster = roster(&alice, &bob);
        let roles = roles();
        let good = sign(&payload("bob@example", Role::Scribe, "r1"), &bob).expect("sign");
        let checked = check("r1", &good, "inc", &roster, &roles).expect("taken");
        assert_eq!(checked.fingerprint, bob.fingerprint());
        assert_eq!(checked.payload.principal, "bob@example");

        // Unknown key.
        let bad = sign(&payload("bob@example", Role::Scribe, "r2"), &mallory).expect("sign");
        assert!(matches!(
            check("r2", &bad, "inc", &roster, &roles),
            Err(Refusal::Signature(VerifyError::UnknownKey(_)))
        ));
        // Someone else's principal with one's own key.
        let bad = sign(&payload("alice@example", Role::Commander, "r3"), &bob).expect("sign");
        assert!(matches!(
            check("r3", &bad, "inc", &roster, &roles),
            Err(Refusal::Signature(VerifyError::NotPrincipal { .. }))
        ));
        // Tampered: the signed text changed after signing.
        let mut object: RequestObject = serde_json::from_slice(&good).expect("object");
        object.signed = object
            .signed
            .replace("customer comms sent", "all clear, go home");
        let tampered = serde_json::to_vec(&object).expect("json");
        assert_eq!(
            check("r1", &tampered, "inc", &roster, &roles).err(),
            Some(Refusal::Signature(VerifyError::Mismatch))
        );
        // A good request copied under another name.
        assert!(matches!(
            check("r9", &good, "inc", &roster, &roles),
            Err(Refusal::NameMismatch { .. })
        ));
        // Another incident's request.
        assert!(matches!(
            check("r1", &good, "other", &roster, &roles),
            Err(Refusal::WrongIncident { .. })
        ));
        // Unsigned.
        object.signature = String::new();
        let unsigned = serde_json::to_vec(&object).expect("json");
        assert_eq!(
            check("r1", &unsigned, "inc", &roster, &roles).err(),
            Some(Refusal::Unsigned)
        );
        // A role the principal does not hold, and a request the role may not make.
        let bad = sign(&payload("bob@example", Role::Commander, "r4"), &bob).expect("sign");
        assert!(matches!(
            check("r4", &bad, "inc", &roster, &roles),
            Err(Refusal::RoleNotHeld { .. })
        ));
        let bad = sign(&payload("bob@example", Role::Approver, "r5"), &bob).expect("sign");
        assert!(matches!(
            check("r5", &bad, "inc", &roster, &roles),
            Err(Refusal::OutOfRole { .. })
        ));
        // Not JSON at all.
        assert!(matches!(
            check("r6", b"\x1b[2J", "inc", &roster, &roles),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn the_roster_refuses_a_key_limited_to_other_namespaces_and_names_bad_lines() {
        let bob = Signer::from_seed([2; 32]);
        let roster = Roster::parse(
            "r",
            &format!("bob namespaces=\"git,file\" {}\n", bob.public_openssh()),
        )
        .expect("roster");
        let signed = bob.sign(b"x").expect("sign");
        assert!(matches!(
            roster.verify("bob", b"x", &signed),
            Err(VerifyError::Namespace(_))
        ));
        let e =
            Roster::parse("allowed_signers", "\n\nbob ssh-ed25519 notbase64\n").expect_err("bad");
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("allowed_signers:3: "), "{e}");
    }
}
