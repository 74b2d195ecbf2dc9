//! OpenSSH signatures (SSHSIG, `ssh-keygen -Y sign`) and the roster that says whose keys count
//! (OpenSSH's `allowed_signers` format, as `ssh-keygen -Y verify -f ROSTER` reads it).
//!
//! Every signature is made and checked in the [`NAMESPACE`] `warroom`, with SHA-512, so that
//! `ssh-keygen -Y verify -f ROSTER -I PRINCIPAL -n warroom -s SIG < MESSAGE` checks it by hand.
//! Keys: ed25519 (the key type OpenSSH generates by default), from an unencrypted key file or
//! through an ssh-agent holding the key ([`super::agent`]).

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

/// The SSHSIG namespace of every warroom signature.
pub const NAMESPACE: &str = "warroom";

/// Why a key could not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("{path}: cannot read the SSH key: {why}")]
    Read { path: PathBuf, why: String },
    #[error(
        "{path}: the key is protected by a passphrase and no ssh-agent holds it: add it to your \
         agent (ssh-add {path}) with SSH_AUTH_SOCK set, and warroom signs through the agent{why}"
    )]
    Encrypted { path: PathBuf, why: String },
    #[error("{0}")]
    Agent(#[from] super::agent::AgentError),
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// Why a signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no signature")]
    Unsigned,
    #[error("the signature is not an SSH signature (SSHSIG, PEM armoured): {0}")]
    Malformed(String),
    #[error("key {0} is not in the roster")]
    UnknownKey(String),
    #[error("key {fingerprint} is in the roster for {allowed}, not for {principal}")]
    NotPrincipal {
        fingerprint: String,
        principal: String,
        allowed: String,
    },
    #[error("the roster does not allow key {0} to sign in namespace warroom")]
    Namespace(String),
    #[error("the signature does not match what was signed (altered after signing)")]
    Mismatch,
}

/// A signer: a private key read from a file, or an ssh-agent holding the key.
pub struct Signer {
    inner: Inner,
}

enum Inner {
    Key(PrivateKey),
    Agent(super::agent::Agent),
}

impl Signer {
    /// The key at `path` (a private key file, or its `.pub` when an agent holds the key): through
    /// the agent at `$SSH_AUTH_SOCK` when it holds the key, else from the file (which must then
    /// be unencrypted).
    pub fn from_file(path: &Path) -> Result<Self, SignError> {
        let socket = std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        Self::from_file_with_agent(path, socket.as_deref())
    }

    /// [`Signer::from_file`] with the agent's socket given (`None`: no agent).
    pub fn from_file_with_agent(path: &Path, socket: Option<&Path>) -> Result<Self, SignError> {
        let read = |e: ssh_key::Error| SignError::Read {
            path: path.to_path_buf(),
            why: e.to_string(),
        };
        // A private key file (its public half is readable even when encrypted), else a public
        // key file whose private half only an agent has.
        let (private, public) = match PrivateKey::read_openssh_file(path) {
            Ok(key) => {
                let public = key.public_key().clone();
                (Some(key), public)
            }
            Err(e) => match PublicKey::read_openssh_file(path) {
                Ok(public) => (None, public),
                Err(_) => return Err(read(e)),
            },
        };
        let usable = private.filter(|k| !k.is_encrypted());
        let agent = match socket {
            Some(socket) => match super::agent::Agent::holding(socket, &public) {
                Ok(found) => found.map(Ok),
                // An agent that cannot be asked matters only when the file cannot sign.
                Err(e) if usable.is_none() => Some(Err(e)),
                Err(e) => {
                    tracing::warn!("signing with the key file: {e}");
                    None
                }
            },
            None => None,
        };
        match (agent, usable) {
            (Some(Ok(agent)), _) => Ok(Signer {
                inner: Inner::Agent(agent),
            }),
            (_, Some(key)) => Ok(Signer {
                inner: Inner::Key(key),
            }),
            (Some(Err(e)), None) => Err(SignError::Encrypted {
                path: path.to_path_buf(),
                why: format!(" ({e})"),
            }),
            (None, None) => Err(SignError::Encrypted {
                path: path.to_path_buf(),
                why: match socket {
                    Some(s) => format!(" (the agent at {} does not hold it)", s.display()),
                    None => " (SSH_AUTH_SOCK is not set)".into(),
                },
            }),
        }
    }

    /// A key from a 32-byte ed25519 seed (tests: keys without a file).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Signer {
            inner: Inner::Key(PrivateKey::from(
                ssh_key::private::Ed25519Keypair::from_seed(&seed),
            )),
        }
    }

    /// Whether signatures come from an ssh-agent.
    pub fn through_agent(&self) -> bool {
        matches!(self.inner, Inner::Agent(_))
    }

    pub fn public_key(&self) -> PublicKey {
        match &self.inner {
            Inner::Key(k) => k.public_key().clone(),
            Inner::Agent(a) => a.key.clone(),
        }
    }

    /// The public key, as an `allowed_signers` or `authorized_keys` line wants it.
    pub fn public_openssh(&self) -> String {
        self.public_key().to_openssh().unwrap_or_default()
    }

    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.public_key().fingerprint(HashAlg::Sha256).to_string()
    }

    /// The armoured SSHSIG signature of `message` (`-----BEGIN SSH SIGNATURE-----` ...). Through
    /// an agent this is socket I/O, bounded by [`super::agent::TIMEOUT`].
    pub fn sign(&self, message: &[u8]) -> Result<String, SignError> {
        match &self.inner {
            Inner::Key(key) => key
                .sign(NAMESPACE, HashAlg::Sha512, message)
                .and_then(|s| s.to_pem(LineEnding::LF))
                .map_err(|e| SignError::Sign(e.to_string())),
            Inner::Agent(agent) => Ok(agent.sign(NAMESPACE, HashAlg::Sha512, message)?),
        }
    }
}

/// One line of the roster.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub principals: Vec<String>,
    pub key: PublicKey,
    /// `namespaces="..."`: the namespaces the key may sign in (`None`: any).
    pub namespaces: Option<Vec<String>>,
    /// 1-based line in the file.
    pub line: usize,
}

/// The `allowed_signers` file.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub entries: Vec<RosterEntry>,
}

/// A roster line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {what}")]
pub struct RosterError {
    pub path: String,
    pub line: usize,
    pub what: String,
}

/// The signer a signature was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub principal: String,
    /// `SHA256:...` of the signing key.
    pub fingerprint: String,
}

fn is_key_type(token: &str) -> bool {
    token.starts_with("ssh-") || token.starts_with("ecdsa-") || token.starts_with("sk-")
}

/// Splits on spaces outside double quotes.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' | '\t' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Roster {
    pub fn load(path: &Path) -> Result<Self, RosterError> {
        let text = std::fs::read_to_string(path).map_err(|e| RosterError {
            path: path.display().to_string(),
            line: 1,
            what: format!("cannot read the roster: {e}"),
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Reads `principals [options] keytype base64 [comment]` lines; `#` comments and blank
    /// lines are skipped. Principals are matched exactly (no wildcards); `cert-authority` lines
    /// are refused.
    pub fn parse(path: &str, text: &str) -> Result<Self, RosterError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |what: String| RosterError {
                path: path.to_string(),
                line,
                what,
            };
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let toks = tokens(trimmed);
            let principals: Vec<String> = toks
                .first()
                .map(|p| p.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            let mut at = 1;
            let mut namespaces = None;
            if let Some(options) = toks.get(1).filter(|t| !is_key_type(t)) {
                at = 2;
                for opt in options.split(',') {
                    let (name, value) = opt.split_once('=').unwrap_or((opt, ""));
                    match name.to_ascii_lowercase().as_str() {
                        "namespaces" => {
                            namespaces = Some(
                                value
                                    .trim_matches('"')
                                    .split(',')
                                    .map(str::to_string)
                                    .collect(),
                            );
                        }
                        "cert-authority" => {
                            return Err(err(
                                "cert-authority lines are not supported: list each key".into(),
                            ));
                        }
                        _ => {}
                    }
                }
            }
            let (Some(kind), Some(body)) = (toks.get(at), toks.get(at + 1)) else {
                return Err(err(
                    "expected `principals [options] key-type base64-key [comment]`".into(),
                ));
            };
            let key = PublicKey::from_openssh(&format!("{kind} {body}"))
                .map_err(|e| err(format!("not an OpenSSH public key: {e}")))?;
            entries.push(RosterEntry {
                principals,
                key,
                namespaces,
                line,
            });
        }
        Ok(Roster { entries })
    }

    /// Checks `signature` over `message` as made by `principal`.
    pub fn verify(
        &self,
        principal: &str,
        message: &[u8],
        signature: &str,
    ) -> Result<Verified, VerifyError> {
        if signature.trim().is_empty() {
            return Err(VerifyError::Unsigned);
        }
        let sig = SshSig::from_pem(signature.trim().as_bytes())
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let fingerprint = sig.public_key().fingerprint(HashAlg::Sha256).to_string();
        let entries: Vec<&RosterEntry> = self
            .entries
            .iter()
            .filter(|e| e.key.key_data() == sig.public_key())
            .collect();
        if entries.is_empty() {
            return Err(VerifyError::UnknownKey(fingerprint));
        }
        let Some(entry) = entries
            .iter()
            .find(|e| e.principals.iter().any(|p| p == principal))
        else {
            return Err(VerifyError::NotPrincipal {
                fingerprint,
                principal: principal.to_string(),
                allowed: entries
                    .iter()
                    .flat_map(|e| e.principals.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if entry
            .namespaces
            .as_ref()
            .is_some_and(|ns| !ns.iter().any(|n| n == NAMESPACE))
        {
            return Err(VerifyError::Namespace(fingerprint));
        }
        entry
            .key
            .verify(NAMESPACE, message, &sig)
            .map_err(|_| VerifyError::Mismatch)?;
        Ok(Verified {
            principal: principal.to_string(),
            fingerprint,
        })
    }
}
