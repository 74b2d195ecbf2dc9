//! The shared war room's commands: the driver's share session (`--share`, `[share]`), `join`
//! (list, or follow a shared incident through a local copy of its log) and `request` (a signed
//! note or milestone, then the driver's verdict).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};

use warroom::app::runtime::{ShareKind, ShareSession};
use warroom::cli::{ConsoleArgs, RequestAsk};
use warroom::duration::Dur;
use warroom::env::Environment;
use warroom::share::lease::Claimant;
use warroom::share::request::{Body, Requester, Role, SendError, Verdict, send, verdict_in};
use warroom::share::sig::{Roster, Signer};
use warroom::share::store::{Store, StoreOptions};
use warroom::share::{IncidentKeys, ShareUrl, ingest::Trust, join};
use warroom::text::echo;

use super::start::{FollowPlan, follow_plan};
use super::{BadInput, EXIT_BAD_INPUT};

/// How the store is reached: `--endpoint-url`, `$AWS_ENDPOINT_URL`, `[share] endpoint_url`,
/// `[aws] endpoint_url`; the region from `[share] region`, else `$AWS_REGION`.
pub(crate) fn store_options(args: &ConsoleArgs, env: &Environment) -> StoreOptions {
    let share = env.share.clone().unwrap_or_default();
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    StoreOptions {
        region: nonempty(share.region)
            .or_else(|| nonempty(std::env::var("AWS_REGION").ok()))
            .or_else(|| nonempty(std::env::var("AWS_DEFAULT_REGION").ok())),
        profile: nonempty(share.profile),
        endpoint_url: nonempty(args.endpoint_url.clone())
            .or_else(|| nonempty(std::env::var("AWS_ENDPOINT_URL").ok()))
            .or_else(|| nonempty(share.endpoint_url))
            .or_else(|| {
                env.aws
                    .as_ref()
                    .and_then(|a| a.endpoint_url.as_ref())
                    .map(|u| u.get_ref().clone())
            }),
    }
}

fn open_store(
    args: &ConsoleArgs,
    env: &Environment,
    url: &ShareUrl,
) -> Result<Arc<dyn Store>, BadInput> {
    warroom::share::store::open(url, &store_options(args, env))
        .map_err(|e| BadInput(format!("error: {url}: {e}")))
}

fn parse_url(text: &str) -> Result<ShareUrl, BadInput> {
    ShareUrl::parse(text).map_err(|e| BadInput(format!("error: {e}")))
}

/// The driver's share session, when `--share` or `[share] url` asks for one: the roster and
/// roles are read now (before the terminal), a bad one refused with `path:line`.
pub(crate) fn driver_share(
    args: &ConsoleArgs,
    env: &Environment,
) -> Result<Option<ShareSession>, BadInput> {
    let settings = env.share.clone().unwrap_or_default();
    let Some(text) = args.share.clone().or(settings.url.clone()) else {
        return Ok(None);
    };
    driver_share_at(args, env, parse_url(&text)?, None).map(Some)
}

/// The driver's share session at `url`, holding command from `lease` (an ETag) if given.
pub(crate) fn driver_share_at(
    args: &ConsoleArgs,
    env: &Environment,
    url: ShareUrl,
    lease: Option<String>,
) -> Result<ShareSession, BadInput> {
    let settings = env.share.clone().unwrap_or_default();
    let roster = roster(env)?.map(Arc::new);
    let who = super::journal_api::identity(args);
    let key = match &args.key {
        Some(path) => Some(
            Signer::from_file(path)
                .map_err(|e| BadInput(format!("error: {e}")))?
                .fingerprint(),
        ),
        None => None,
    };
    Ok(ShareSession {
        store: open_store(args, env, &url)?,
        url,
        kind: ShareKind::Drive {
            trust: Trust {
                roster,
                roles: settings.roles,
            },
            claimant: Claimant {
                holder: who.operator,
                host: who.host,
                pid: who.pid,
                key,
            },
            lease,
        },
    })
}

/// The environment's roster (`[share] roster`), read and checked.
fn roster(env: &Environment) -> Result<Option<Roster>, BadInput> {
    let settings = env.share.clone().unwrap_or_default();
    match &settings.roster {
        Some(path) => {
            let path = match &env.base_dir {
                Some(dir) if path.is_relative() => dir.join(path),
                _ => path.clone(),
            };
            Roster::load(&path)
                .map(Some)
                .map_err(|e| BadInput(format!("error: {e}")))
        }
        None => Ok(None),
    }
}

/// `warroom join URL/INCIDENT --take-command`: who may take command (with a roster: a key of
/// the operator's in it, and the commander role), then the lease, then the incident's journal
/// rebuilt from the shared log into the incidents directory. Returns the journal and the
/// lease's ETag; the caller resumes it.
pub(crate) fn take_command(
    args: &ConsoleArgs,
    env: &Environment,
    url: &str,
) -> Result<(PathBuf, ShareUrl, String), BadInput> {
    let url = parse_url(url)?;
    let who = super::journal_api::identity(args);
    if let Some(roster) = roster(env)? {
        let Some(key) = &args.key else {
            return Err(BadInput(
                "error: --take-command: the war room has a roster: give your key with --key \
                 and your principal with --operator"
                    .into(),
            ));
        };
        let signer = Signer::from_file(key).map_err(|e| BadInput(format!("error: {e}")))?;
        let proof = format!("take command of {url}");
        let signature = signer
            .sign(proof.as_bytes())
            .map_err(|e| BadInput(format!("error: {e}")))?;
        roster
            .verify(&who.operator, proof.as_bytes(), &signature)
            .map_err(|e| BadInput(format!("error: --take-command as {}: {e}", who.operator)))?;
        let roles = env.share.clone().unwrap_or_default().roles;
        if !roles
            .get(&who.operator)
            .is_some_and(|r| r.contains(&Role::Commander))
        {
            return Err(BadInput(format!(
                "error: --take-command: {} may not take command (the environment's \
                 [share.roles] does not give the commander role)",
                echo(&who.operator)
            )));
        }
    }
    let store = open_store(args, env, &url)?;
    let rt = runtime().map_err(|e| BadInput(format!("error: {e}")))?;
    let fail = |e: &dyn std::fmt::Display| BadInput(format!("error: {url}: {e}"));
    if !rt
        .block_on(join::is_incident(store.as_ref(), &url))
        .map_err(|e| fail(&e))?
    {
        return Err(fail(&"no incident there"));
    }
    let keys = IncidentKeys {
        base: url.prefix.clone(),
    };
    let key = match &args.key {
        Some(path) => Some(
            Signer::from_file(path)
                .map_err(|e| BadInput(format!("error: {e}")))?
                .fingerprint(),
        ),
        None => None,
    };
    let claimant = Claimant {
        holder: who.operator.clone(),
        host: who.host.clone(),
        pid: who.pid,
        key,
    };
    let etag = rt
        .block_on(warroom::share::lease::acquire(
            store.as_ref(),
            &keys,
            &claimant,
            chrono::Utc::now() + test_clock_ahead(),
        ))
        .map_err(|e| fail(&e))?;
    let dir = warroom::journal::default_dir().map_err(|e| fail(&e))?;
    warroom::journal::create_private_dir(&dir).map_err(|e| fail(&e))?;
    let path = dir.join(format!("{}.jsonl", url.last_segment()));
    if path.exists() {
        return Err(BadInput(format!(
            "error: {}: already exists; continue it with --resume {}",
            path.display(),
            path.display()
        )));
    }
    rt.block_on(join::Copy::create(Arc::clone(&store), &url, &path))
        .map_err(|e| fail(&e))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok((path, url.parent(), etag))
}

/// End-to-end tests of clock skew: a taker whose wall clock runs this many seconds ahead
/// (`WARROOM_TEST_CLOCK_AHEAD`). Nothing else reads the variable; a lease's expiry is judged by
/// the store's clock, so it changes nothing unless the store does not give its clock.
fn test_clock_ahead() -> chrono::TimeDelta {
    std::env::var("WARROOM_TEST_CLOCK_AHEAD")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(chrono::TimeDelta::zero(), chrono::TimeDelta::seconds)
}

/// What `join` hands the console: the follow plan over the local copy, and its share session.
pub(crate) struct Joined {
    pub(crate) role: Role,
    pub(crate) session: ShareSession,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")
}

/// `warroom join URL`: the list of incidents, or a plan to follow one.
pub(crate) enum JoinOutcome {
    Listed(ExitCode),
    Follow(Box<FollowPlan>, Box<Joined>),
}

pub(crate) fn join(
    args: &ConsoleArgs,
    env: &Environment,
    url: &str,
    role: Role,
) -> Result<JoinOutcome, BadInput> {
    let url = parse_url(url)?;
    let store = open_store(args, env, &url)?;
    let rt = runtime().map_err(|e| BadInput(format!("error: {e}")))?;
    let fail = |e: &dyn std::fmt::Display| BadInput(format!("error: {url}: {e}"));
    let incident = rt
        .block_on(join::is_incident(store.as_ref(), &url))
        .map_err(|e| fail(&e))?;
    if !incident {
        let listed = rt
            .block_on(join::list(store.as_ref(), &url))
            .map_err(|e| fail(&e))?;
        let open: Vec<_> = listed.iter().filter(|l| l.open()).collect();
        let mut out = String::new();
        if open.is_empty() {
            out.push_str(&format!(
                "no open incident in {url} ({} finished)\n",
                listed.len()
            ));
        } else {
            out.push_str(&format!("open incidents in {url}:\n"));
            for l in &open {
                out.push_str(&format!(
                    "  {}  {} ({}, by {}, started {}, {} events)\n",
                    l.incident, l.title, l.mode, l.operator, l.started_at, l.events
                ));
            }
            out.push_str(&format!(
                "join one with: warroom join {url}/INCIDENT --role observer\n"
            ));
        }
        let code = match warroom::text::print_out(&out, warroom::text::Form::Text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
        return Ok(JoinOutcome::Listed(code));
    }
    // A scribe's or approver's keys send signed requests: the key is read now (before the
    // terminal), as `--operator` (the principal in the roster).
    let requester = match &args.key {
        Some(path) if role != Role::Observer => Some(Requester {
            signer: Arc::new(Signer::from_file(path).map_err(|e| BadInput(format!("error: {e}")))?),
            principal: super::journal_api::identity(args).operator,
            role,
        }),
        _ => None,
    };
    let name = url.last_segment().to_string();
    let dir = warroom::journal::default_dir()
        .map_err(|e| fail(&e))?
        .parent()
        .map(|p| p.join("joined"))
        .unwrap_or_else(|| PathBuf::from("joined"));
    warroom::journal::create_private_dir(&dir).map_err(|e| fail(&e))?;
    let path = dir.join(format!("{name}.jsonl"));
    let copy = rt
        .block_on(join::Copy::create(Arc::clone(&store), &url, &path))
        .map_err(|e| fail(&e))?;
    drop(rt);
    let plan = follow_plan(args, env, &path)?;
    // The console runs on its own runtime: a store (and its connections) of its own.
    let store = open_store(args, env, &url)?;
    let copy = copy.rebind(Arc::clone(&store));
    Ok(JoinOutcome::Follow(
        Box::new(plan),
        Box::new(Joined {
            role,
            session: ShareSession {
                store,
                url,
                kind: ShareKind::Join { copy, requester },
            },
        }),
    ))
}

/// `warroom request`: sign, put, wait for the verdict.
#[allow(clippy::too_many_arguments)]
pub(crate) fn request(
    args: &ConsoleArgs,
    env: &Environment,
    url: &str,
    principal: &str,
    role: Role,
    wait: &str,
    sequence: Option<u64>,
    ask: RequestAsk,
) -> Result<ExitCode> {
    let bad = |msg: String| {
        warroom::say_err!("{msg}");
        Ok(ExitCode::from(EXIT_BAD_INPUT))
    };
    let url = match parse_url(url) {
        Ok(u) => u,
        Err(BadInput(m)) => return bad(m),
    };
    let wait = match Dur::parse(wait) {
        Ok(d) => d.to_std(),
        Err(e) => return bad(format!("error: --wait: {e}")),
    };
    let Some(key) = &args.key else {
        return bad("error: a request is signed: give your SSH key with --key FILE".into());
    };
    let signer = match Signer::from_file(key) {
        Ok(s) => s,
        Err(e) => return bad(format!("error: {e}")),
    };
    let store = match open_store(args, env, &url) {
        Ok(s) => s,
        Err(BadInput(m)) => return bad(m),
    };
    let incident = url.last_segment().to_string();
    let keys = IncidentKeys {
        base: url.prefix.clone(),
    };
    let rt = runtime()?;
    match rt.block_on(join::is_incident(store.as_ref(), &url)) {
        Ok(true) => {}
        Ok(false) => {
            return bad(format!(
                "error: {url}: no incident there (list them with: warroom join s3://{}/...)",
                url.bucket
            ));
        }
        Err(e) => {
            warroom::say_err!("error: {url}: {e}");
            return Ok(ExitCode::FAILURE);
        }
    }
    let seen = match rt.block_on(store.list(keys.events_dir(), None)) {
        Ok(keys_found) => keys_found
            .iter()
            .filter_map(|k| keys.seq_of(k))
            .max()
            .unwrap_or(0),
        Err(e) => {
            warroom::say_err!("error: {url}: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let body = match ask {
        RequestAsk::Note { text } => Body::Note { text },
        RequestAsk::Milestone { text } => Body::Milestone { text },
        RequestAsk::Approve { resource } => {
            let armed = match rt.block_on(waiting_arming(store.as_ref(), &keys)) {
                Ok(Some(a)) => a,
                Ok(None) => {
                    warroom::say_err!("{url}: no step waits for approval");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => {
                    warroom::say_err!("error: {url}: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let _ = warroom::text::print_out(&armed.describe(), warroom::text::Form::Text);
            let typed = match resource {
                Some(r) => r,
                None => {
                    use std::io::{BufRead, Write as _};
                    {
                        let mut err = std::io::stderr().lock();
                        let _ = err
                            .write_all(
                                warroom::text::gate(&format!(
                                    "type {:?} to approve (anything else cancels): ",
                                    armed.resource
                                ))
                                .as_bytes(),
                            )
                            .and_then(|()| err.flush());
                    }
                    let mut line = String::new();
                    let _ = std::io::stdin().lock().read_line(&mut line);
                    line.trim().to_string()
                }
            };
            if typed != armed.resource {
                warroom::say_err!(
                    "not approved: typed {}, approving needs {:?}",
                    echo(&typed),
                    armed.resource
                );
                return Ok(ExitCode::FAILURE);
            }
            Body::Approve {
                step: armed.step,
                armed: armed.armed,
                resource: typed,
            }
        }
    };
    let requester = Requester {
        signer: Arc::new(signer),
        principal: principal.to_string(),
        role,
    };
    let id = match rt.block_on(send(
        store.as_ref(),
        &keys,
        &incident,
        &requester,
        sequence.unwrap_or(seen),
        body,
        chrono::Utc::now(),
    )) {
        Ok(id) => id,
        Err(e @ SendError::Sign(_)) => return bad(format!("error: {e}")),
        Err(e) => {
            warroom::say_err!("error: {url}: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let signer = &requester.signer;
    let _ = warroom::text::print_out(
        &format!(
            "request {id} sent (signed by key {}); waiting for the driver\n",
            signer.fingerprint()
        ),
        warroom::text::Form::Text,
    );
    let deadline = Instant::now() + wait;
    let mut after = seen;
    loop {
        let verdict = rt.block_on(async {
            let found = store
                .list(keys.events_dir(), Some(keys.event(after)))
                .await?;
            for key in found {
                let Some(seq) = keys.seq_of(&key) else {
                    continue;
                };
                let Some(bytes) = store.get(key).await? else {
                    break;
                };
                after = after.max(seq);
                if let Some(v) = verdict_in(&bytes, &id) {
                    return Ok(Some((seq, v)));
                }
            }
            Ok::<_, warroom::share::store::StoreError>(None)
        });
        match verdict {
            Ok(Some((seq, Verdict::Taken))) => {
                let _ = warroom::text::print_out(
                    &format!("taken: journal event {seq}\n"),
                    warroom::text::Form::Text,
                );
                return Ok(ExitCode::SUCCESS);
            }
            Ok(Some((seq, Verdict::Refused(reason)))) => {
                warroom::say_err!("refused (journal event {seq}): {reason}");
                return Ok(ExitCode::FAILURE);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("request: {e}"),
        }
        if Instant::now() >= deadline {
            warroom::say_err!(
                "no verdict from the driver within {}: the request {} stays in the store and is \
                 taken when a driver runs the incident",
                Dur::from_secs(wait.as_secs()),
                echo(&id)
            );
            return Ok(ExitCode::from(3));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The arming waiting for approval in a shared log, as an approver is shown it.
struct Waiting {
    step: String,
    armed: String,
    resource: String,
    command: String,
    by: String,
    key: String,
    evidence: serde_json::Value,
}

impl Waiting {
    fn describe(&self) -> String {
        let evidence = serde_json::to_string_pretty(&self.evidence).unwrap_or_default();
        format!(
            "step {} waits for approval\n  armed by {} (key {})\n  command:  {}\n  \
             resource: {}\n  evidence:\n{}\n",
            self.step,
            self.by,
            self.key,
            self.command,
            self.resource,
            evidence
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}

/// The last `approval_armed` of the shared log with no `confirmed`, `skipped` or new request of
/// its step after it.
async fn waiting_arming(
    store: &dyn Store,
    keys: &IncidentKeys,
) -> Result<Option<Waiting>, warroom::share::store::StoreError> {
    let mut waiting: Option<Waiting> = None;
    for key in store.list(keys.events_dir(), None).await? {
        let Some(bytes) = store.get(key).await? else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let text = |f: &str| v.get(f).and_then(|x| x.as_str()).unwrap_or("").to_string();
        match v.get("kind").and_then(|k| k.as_str()) {
            Some("approval_armed") => {
                waiting = Some(Waiting {
                    step: text("step"),
                    armed: text("armed"),
                    resource: text("resource"),
                    command: text("command"),
                    by: text("by"),
                    key: text("key"),
                    evidence: v.get("evidence").cloned().unwrap_or_default(),
                });
            }
            Some("confirmed" | "skipped" | "confirm_requested" | "aborted")
                if waiting
                    .as_ref()
                    .is_some_and(|w| w.step == text("step") || text("step").is_empty()) =>
            {
                waiting = None;
            }
            _ => {}
        }
    }
    Ok(waiting)
}
