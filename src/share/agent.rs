//! Signing through an ssh-agent (`SSH_AUTH_SOCK`): the agent protocol's two requests warroom
//! needs, over the Unix socket, each bounded by [`TIMEOUT`].
//!
//! - `SSH2_AGENTC_REQUEST_IDENTITIES` (11) -> `SSH2_AGENT_IDENTITIES_ANSWER` (12): whether the
//!   agent holds the key;
//! - `SSH2_AGENTC_SIGN_REQUEST` (13) over SSHSIG's signed-data blob -> `SSH2_AGENT_SIGN_RESPONSE`
//!   (14), whose signature becomes the `SshSig` (the `ssh-key` crate builds both the blob and
//!   the `SshSig`).
//!
//! Every message is framed as a big-endian `u32` length, then the type byte and the body
//! (strings are `u32` length + bytes), per draft-miller-ssh-agent.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh_key::{Algorithm, HashAlg, LineEnding, PublicKey, Signature, SshSig};

/// Longest one exchange with the agent may take (connect, write, read).
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The largest answer warroom reads from an agent (a key list, a signature).
const MAX_MESSAGE: u32 = 256 * 1024;

const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
const FAILURE: u8 = 5;

/// Why the agent could not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    #[error("ssh-agent at {socket}: {why}")]
    Io { socket: PathBuf, why: String },
    #[error("ssh-agent at {socket} refused to sign (is the key still added? confirm prompt?)")]
    Refused { socket: PathBuf },
    #[error("ssh-agent at {socket} answered something warroom does not understand: {why}")]
    Protocol { socket: PathBuf, why: String },
}

/// An agent holding one key warroom signs with.
#[derive(Debug, Clone)]
pub struct Agent {
    pub socket: PathBuf,
    pub key: PublicKey,
}

impl Agent {
    /// The agent at `socket`, if it holds `key` (`Ok(None)`: it does not).
    pub fn holding(socket: &Path, key: &PublicKey) -> Result<Option<Agent>, AgentError> {
        let blob = key_blob(socket, key)?;
        let answer = exchange(socket, &[REQUEST_IDENTITIES])?;
        let mut r = Reader::new(socket, &answer);
        if r.byte()? != IDENTITIES_ANSWER {
            return Err(r.protocol("not an identities answer"));
        }
        let count = r.u32()?;
        for _ in 0..count {
            let held = r.string()?;
            let _comment = r.string()?;
            if held == blob.as_slice() {
                return Ok(Some(Agent {
                    socket: socket.to_path_buf(),
                    key: key.clone(),
                }));
            }
        }
        Ok(None)
    }

    /// An SSHSIG signature of `message` in `namespace`, PEM armoured.
    pub fn sign(
        &self,
        namespace: &str,
        hash: HashAlg,
        message: &[u8],
    ) -> Result<String, AgentError> {
        let socket = self.socket.as_path();
        let protocol = |why: String| AgentError::Protocol {
            socket: socket.to_path_buf(),
            why,
        };
        let data =
            SshSig::signed_data(namespace, hash, message).map_err(|e| protocol(e.to_string()))?;
        let blob = key_blob(socket, &self.key)?;
        let mut request = vec![SIGN_REQUEST];
        put_string(&mut request, &blob);
        put_string(&mut request, &data);
        // Flags: none (ed25519 has one signature algorithm).
        request.extend_from_slice(&0u32.to_be_bytes());
        let answer = exchange(socket, &request)?;
        let mut r = Reader::new(socket, &answer);
        match r.byte()? {
            SIGN_RESPONSE => {}
            FAILURE => {
                return Err(AgentError::Refused {
                    socket: socket.to_path_buf(),
                });
            }
            other => return Err(r.protocol(&format!("message type {other}"))),
        }
        let signature = r.string()?;
        let mut s = Reader::new(socket, signature);
        let algorithm = std::str::from_utf8(s.string()?)
            .ok()
            .and_then(|a| Algorithm::new(a).ok())
            .ok_or_else(|| protocol("an unknown signature algorithm".into()))?;
        let bytes = s.string()?;
        let signature =
            Signature::new(algorithm, bytes.to_vec()).map_err(|e| protocol(e.to_string()))?;
        SshSig::new(self.key.key_data().clone(), namespace, hash, signature)
            .and_then(|s| s.to_pem(LineEnding::LF))
            .map_err(|e| protocol(e.to_string()))
    }
}

fn key_blob(socket: &Path, key: &PublicKey) -> Result<Vec<u8>, AgentError> {
    key.to_bytes().map_err(|e| AgentError::Protocol {
        socket: socket.to_path_buf(),
        why: e.to_string(),
    })
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// One request and its answer (the answer's payload, without the length).
fn exchange(socket: &Path, request: &[u8]) -> Result<Vec<u8>, AgentError> {
    exchange_within(socket, request, TIMEOUT)
}

/// [`exchange`], each read and write bounded by `timeout`.
fn exchange_within(
    socket: &Path,
    request: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, AgentError> {
    let io = |e: std::io::Error| AgentError::Io {
        socket: socket.to_path_buf(),
        why: e.to_string(),
    };
    let mut stream = UnixStream::connect(socket).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut framed = Vec::with_capacity(request.len() + 4);
    put_string(&mut framed, request);
    stream.write_all(&framed).map_err(io)?;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).map_err(io)?;
    let len = u32::from_be_bytes(len);
    if len == 0 || len > MAX_MESSAGE {
        return Err(AgentError::Protocol {
            socket: socket.to_path_buf(),
            why: format!("an answer of {len} bytes"),
        });
    }
    let mut answer = vec![0u8; len as usize];
    stream.read_exact(&mut answer).map_err(io)?;
    Ok(answer)
}

/// Reads the agent protocol's fields, refusing short or oversized ones.
struct Reader<'a> {
    socket: &'a Path,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(socket: &'a Path, bytes: &'a [u8]) -> Self {
        Reader {
            socket,
            rest: bytes,
        }
    }

    fn protocol(&self, why: &str) -> AgentError {
        AgentError::Protocol {
            socket: self.socket.to_path_buf(),
            why: why.to_string(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AgentError> {
        if self.rest.len() < n {
            return Err(self.protocol("a message cut short"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, AgentError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, AgentError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<&'a [u8], AgentError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_or_bogus_answer_is_a_protocol_error_not_a_panic() {
        let socket = Path::new("/agent");
        let mut r = Reader::new(socket, &[0, 0, 0, 9, 1, 2]);
        assert!(matches!(r.string(), Err(AgentError::Protocol { .. })));
        let mut r = Reader::new(socket, &[]);
        assert!(r.byte().is_err());
        let mut r = Reader::new(socket, &[0, 0, 0, 2, 7, 8, 9]);
        assert_eq!(r.string().expect("two bytes"), &[7, 8]);
        assert_eq!(r.byte().expect("one"), 9);
    }

    #[test]
    fn an_agent_that_never_answers_times_out() {
        let dir = std::env::temp_dir().join(format!("warroom-agent-hung-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let socket = dir.join("a.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
        // Accepts, reads, never answers.
        let hung = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 64];
            let _ = conn.read(&mut buf);
            std::thread::sleep(Duration::from_millis(800));
        });
        let started = std::time::Instant::now();
        let e = exchange_within(&socket, &[REQUEST_IDENTITIES], Duration::from_millis(200))
            .expect_err("no answer");
        assert!(matches!(e, AgentError::Io { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_millis(700));
        let _ = hung.join();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_agent_at_the_socket_is_an_io_error_naming_it() {
        let key = crate::share::sig::Signer::from_seed([4; 32]).public_key();
        let e = Agent::holding(Path::new("/nonexistent/agent.sock"), &key).expect_err("no agent");
        assert!(
            e.to_string()
                .starts_with("ssh-agent at /nonexistent/agent.sock: "),
            "{e}"
        );
    }
}
