//! The executor for `run` steps: starts the confirmed step's program, streams its output, ends it.
//!
//! # No shell
//!
//! `argv[0]` is executed with `argv[1..]` as its arguments, byte for byte: no shell, no word
//! splitting, no globbing, no `$VAR` or `$(...)` expansion. A playbook variable whose value is
//! `; rm -rf /` reaches the program as that one literal argument.
//!
//! # Killing: the whole process group, with `nix::sys::signal::killpg`
//!
//! The child is started as the leader of a new process group (`process_group(0)`), so that
//! everything it forks without deliberately detaching (`setsid`) is in that group. On timeout or
//! cancel the executor sends `SIGKILL` to the group (`killpg`) and to the leader itself (tokio's
//! `start_kill`, in case the leader moved itself to another group).
//!
//! `killpg` comes from the `nix` crate (only its `signal` feature; `nix` was already compiled in
//! the dependency tree) because the crate denies `unsafe_code`, so calling `libc::kill` directly
//! is out, and the alternative of running `kill -KILL -- -PGID` as a child process needs a fork,
//! a `kill` binary on `PATH` and an async wait, exactly when the machine may be overloaded (a
//! disaster). A direct system call also works synchronously in `Drop`, which is how a step whose
//! task is aborted (the console quits) still takes its process group down with it.
//!
//! Process-group ids are process ids, and a pid is only free for reuse once its process is
//! reaped. The group is therefore signalled while the leader is known to be unreaped (timeout,
//! cancel, drop mid-run), with one documented exception: see [`POST_EXIT_GRACE`].
//!
//! # The whole tree, `setsid` children included
//!
//! A process that left the group (`setsid`, a daemon) is still the step's: every step is tracked
//! in `/proc` by a marker in its environment, its group and session, and its ancestry
//! ([`super::tree`]), and whatever of it still runs when the step ends (exits, fails, times out,
//! is cancelled, or the console quits) is killed. What cannot be killed is reported
//! ([`ExecEvent::LeftRunning`]) and journaled. A step can no longer leave something running
//! behind on purpose: start long-lived services through their service manager instead.
//!
//! # Environment
//!
//! The program inherits warroom's environment, plus the step's `env = { ... }` (the way to pass a
//! secret: arguments are readable by every local user in `ps`, the environment of another user's
//! process is not), plus [`super::tree::MARKER_ENV`].
//!
//! # Memory and back-pressure
//!
//! Output is read line by line from both pipes concurrently and handed to `send` at once; nothing
//! accumulates beyond one line ([`LINE_CAP`] bytes) per stream, and both pipes are drained all the
//! time, so a child printing megabytes on one stream never blocks on a full pipe.

use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};

use crate::duration::Dur;

pub use super::tree::{LeftProcess, MARKER_ENV, Tracker};

/// Environment variable names a step cannot set (warroom sets them).
pub const RESERVED_ENV: &[&str] = &[MARKER_ENV];

/// Longest line delivered, in bytes; the rest of a longer line is dropped and the delivered part
/// ends with [`TRUNCATED_SUFFIX`]. Bounds memory per stream and keeps one runaway line (a
/// base64 blob, a progress bar without newlines) from flooding the log pane.
pub const LINE_CAP: usize = 4096;

/// Appended to a line cut at [`LINE_CAP`] bytes.
pub const TRUNCATED_SUFFIX: &str = " [line truncated]";

/// How long output is still read after the step's program exited while something else (a
/// background process it started) keeps its stdout or stderr open. When this runs out, the
/// step's process group is killed and reading stops: otherwise the step would never finish.
///
/// This is the one `killpg` after the leader was reaped. It is safe in practice: a process is
/// holding the pipe, almost always a member of the group, and a live member keeps the group id
/// from being reused; if all members left the group, the id could only have been reused by a
/// new process-group leader within these two seconds, which needs the pid counter to wrap.
///
/// A background process that redirected its output elsewhere (`nohup x >log 2>&1 &`) does not
/// hold the pipes: it is killed with the rest of the step's tree when the step ends.
pub const POST_EXIT_GRACE: Duration = Duration::from_secs(2);

/// How long to wait for the program to be reaped after `SIGKILL` before reporting the outcome
/// anyway. A process stuck in uninterruptible sleep (a hung NFS mount in a disaster) does not
/// die on `SIGKILL` until the kernel lets it; the step must still end on time. Tokio reaps the
/// process later if it ever exits.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of a running step's output, or its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEvent {
    /// One line without its line terminator (`\n` or `\r\n`), invalid UTF-8 replaced by U+FFFD.
    Output { stream: Stream, line: String },
    /// Processes of the step that could not be killed when it ended (pid and command line);
    /// sent at most once, just before [`ExecEvent::Finished`].
    LeftRunning(Vec<LeftProcess>),
    /// The step ended; always the last event.
    Finished(ExecOutcome),
}

/// How a step's program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// The program exited with this status code.
    Exited { code: i32 },
    /// The program was killed by a signal it did not get from warroom.
    Signalled { signal: i32 },
    /// The step's timeout ran out; its process group was killed.
    TimedOut { after: Dur },
    /// The engine cancelled the step; its process group was killed.
    Killed,
    /// The program could not be started (empty argv, not found, not executable, bad working
    /// directory, NUL byte in an argument), or, very rarely, it was started but its exit status
    /// could not be observed; `message` says which, ready to show.
    SpawnFailed { message: String },
}

impl ExecOutcome {
    /// True only for exit code 0.
    pub fn success(&self) -> bool {
        matches!(self, ExecOutcome::Exited { code: 0 })
    }

    /// One phrase for the log pane and the journal: `exit 0`, `exit 3`, `killed by signal 9`,
    /// `timed out after 1m`, `killed (cancelled)`, `cannot start ./x: No such file or directory
    /// (os error 2)`.
    pub fn describe(&self) -> String {
        match self {
            ExecOutcome::Exited { code } => format!("exit {code}"),
            ExecOutcome::Signalled { signal } => format!("killed by signal {signal}"),
            ExecOutcome::TimedOut { after } => format!("timed out after {after}"),
            ExecOutcome::Killed => "killed (cancelled)".to_string(),
            ExecOutcome::SpawnFailed { message } => message.clone(),
        }
    }
}

/// Runs `argv[0]` with `argv[1..]` exactly as given (no shell, no splitting, no expansion) in
/// `cwd` (or warroom's own working directory), with stdin from `/dev/null` and the environment
/// inherited, streaming output lines to `send` as they come (both streams, interleaved in arrival
/// order; in order within each stream).
///
/// The child and its process group are killed with `SIGKILL` when `timeout` runs out (counted
/// from the start) or when `()` is sent on `cancel`. Dropping `cancel`'s sender without sending
/// does *not* cancel: a step that changes the world is only stopped on purpose. Dropping the
/// returned future before it completes (an aborted task) kills the process group too.
///
/// Returns the outcome, which is also sent as the last event. `send` returning `false` means
/// nobody listens any more: the step keeps running to its end, but nothing more is sent.
pub async fn run_argv(
    argv: &[String],
    timeout: Option<Dur>,
    cwd: Option<&Path>,
    cancel: oneshot::Receiver<()>,
    send: impl FnMut(ExecEvent) -> bool + Send,
) -> ExecOutcome {
    let spec = Spawn {
        argv,
        env: &[],
        timeout,
        cwd,
    };
    run_step(spec, &Tracker::new(), cancel, send).await
}

/// What to start: the program and its arguments, the variables added to its environment, the
/// timeout and working directory.
#[derive(Debug, Clone, Copy)]
pub struct Spawn<'a> {
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    pub timeout: Option<Dur>,
    pub cwd: Option<&'a Path>,
}

/// [`run_argv`] with an environment, and with the step's process tree in `tracker`, which the
/// caller keeps to end the tree itself if this future is dropped (the console quitting).
pub async fn run_step(
    spec: Spawn<'_>,
    tracker: &Tracker,
    cancel: oneshot::Receiver<()>,
    send: impl FnMut(ExecEvent) -> bool + Send,
) -> ExecOutcome {
    let mut sink = Sink {
        send,
        listening: true,
    };
    let (outcome, left) = run(spec, tracker, cancel, &mut sink).await;
    if !left.is_empty() {
        sink.emit(ExecEvent::LeftRunning(left));
    }
    sink.emit(ExecEvent::Finished(outcome.clone()));
    outcome
}

/// `send`, and whether anyone still listens.
struct Sink<F> {
    send: F,
    listening: bool,
}

impl<F: FnMut(ExecEvent) -> bool> Sink<F> {
    fn emit(&mut self, event: ExecEvent) {
        if self.listening {
            self.listening = (self.send)(event);
        }
    }
}

async fn run<F: FnMut(ExecEvent) -> bool>(
    spec: Spawn<'_>,
    tracker: &Tracker,
    cancel: oneshot::Receiver<()>,
    sink: &mut Sink<F>,
) -> (ExecOutcome, Vec<LeftProcess>) {
    let mut group = None;
    let outcome = run_group(spec, tracker, cancel, sink, &mut group).await;
    let left = group.as_mut().map(Group::finished).unwrap_or_default();
    (outcome, left)
}

async fn run_group<F: FnMut(ExecEvent) -> bool>(
    spec: Spawn<'_>,
    tracker: &Tracker,
    mut cancel: oneshot::Receiver<()>,
    sink: &mut Sink<F>,
    group_slot: &mut Option<Group>,
) -> ExecOutcome {
    let Spawn {
        argv,
        env,
        timeout,
        cwd,
    } = spec;
    let Some((program, args)) = argv.split_first() else {
        return ExecOutcome::SpawnFailed {
            message: "cannot start: empty command".to_string(),
        };
    };
    super::tree::become_subreaper();
    let started = Instant::now();
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env(MARKER_ENV, tracker.marker())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let place = cwd.map_or_else(String::new, |dir| {
                format!(" in {}", printable(&dir.display().to_string()))
            });
            return ExecOutcome::SpawnFailed {
                message: format!("cannot start {}{place}: {e}", printable(program)),
            };
        }
    };
    if let Some(pid) = child.id() {
        tracker.started(pid);
    }
    let group = group_slot.insert(Group::new(&child, tracker.clone()));
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        // Both were set to piped above, so tokio always provides them; if not, do not leave an
        // unobserved child behind.
        group.kill(&mut child);
        return ExecOutcome::SpawnFailed {
            message: format!("cannot start {}: no output pipes", printable(program)),
        };
    };
    let mut out = LineReader::new(stdout);
    let mut err = LineReader::new(stderr);
    let (mut out_open, mut err_open) = (true, true);

    // `checked_add`: an absurd timeout (`u64::MAX` seconds) means no timeout, not a panic.
    let deadline = timeout.and_then(|t| started.checked_add(t.to_std()));
    let timer = sleep_until(deadline.unwrap_or(started));
    tokio::pin!(timer);
    // Armed (reset) once the program exited or was killed; see POST_EXIT_GRACE and KILL_GRACE.
    let grace = sleep_until(started);
    tokio::pin!(grace);
    let mut grace_armed = false;
    let mut cancel_live = true;
    // Records the step's tree while it runs (see `tree`).
    let mut track = tokio::time::interval_at(
        started + super::tree::TRACK_INTERVAL,
        super::tree::TRACK_INTERVAL,
    );
    track.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let mut status: Option<ExitStatus> = None;
    // Set when warroom killed the step: that, not the resulting SIGKILL status, is the outcome.
    let mut ended_by: Option<ExecOutcome> = None;

    loop {
        if status.is_some() && !out_open && !err_open {
            break;
        }
        let running = status.is_none() && ended_by.is_none();
        tokio::select! {
            line = out.next_line(), if out_open => match line {
                Some(line) => sink.emit(ExecEvent::Output { stream: Stream::Stdout, line }),
                None => out_open = false,
            },
            line = err.next_line(), if err_open => match line {
                Some(line) => sink.emit(ExecEvent::Output { stream: Stream::Stderr, line }),
                None => err_open = false,
            },
            waited = child.wait(), if status.is_none() => match waited {
                Ok(exit) => {
                    group.leader_reaped();
                    status = Some(exit);
                    if ended_by.is_none() {
                        grace.as_mut().reset(Instant::now() + POST_EXIT_GRACE);
                        grace_armed = true;
                    }
                }
                Err(e) => {
                    // Only if something else reaped our child (SIGCHLD ignored process-wide):
                    // the exit status is gone; make sure nothing of the step keeps running.
                    group.kill(&mut child);
                    tracing::error!(program = %program, error = %e, "lost the exit status of a run step");
                    return ended_by.unwrap_or_else(|| ExecOutcome::SpawnFailed {
                        message: format!("lost track of {}: {e}", printable(program)),
                    });
                }
            },
            () = &mut timer, if running && deadline.is_some() => {
                group.kill(&mut child);
                ended_by = Some(ExecOutcome::TimedOut { after: timeout.unwrap_or_default() });
                grace.as_mut().reset(Instant::now() + KILL_GRACE);
                grace_armed = true;
            },
            cancelled = &mut cancel, if running && cancel_live => {
                cancel_live = false;
                // A dropped sender is not a cancel request (see `run_argv`).
                if cancelled.is_ok() {
                    group.kill(&mut child);
                    ended_by = Some(ExecOutcome::Killed);
                    grace.as_mut().reset(Instant::now() + KILL_GRACE);
                    grace_armed = true;
                }
            },
            _ = track.tick(), if status.is_none() => tracker.record(),
            () = &mut grace, if grace_armed => {
                if status.is_some() {
                    tracing::warn!(program = %program, "a run step exited but left processes holding its output; killing its process group");
                } else {
                    tracing::warn!(program = %program, "a killed run step did not die; reporting it ended anyway");
                }
                group.kill(&mut child);
                break;
            },
        }
    }
    if let Some(outcome) = ended_by {
        return outcome;
    }
    match status {
        Some(exit) => outcome_of(exit),
        // Unreachable: the loop only ends without a status after warroom killed the step.
        None => ExecOutcome::Killed,
    }
}

fn outcome_of(status: ExitStatus) -> ExecOutcome {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExecOutcome::Exited { code },
        (None, Some(signal)) => ExecOutcome::Signalled { signal },
        // `wait` without WUNTRACED reports only exits and deaths by signal; keep a value anyway.
        (None, None) => ExecOutcome::Exited {
            code: status.into_raw(),
        },
    }
}

/// A program name or path as it goes into a message: control characters escaped, so a hostile
/// value cannot move the cursor or recolour the terminal; empty shown as `""`.
fn printable(s: &str) -> String {
    if s.is_empty() {
        return "\"\"".to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The step's process group and tree, killed on drop unless the step finished.
struct Group {
    /// The group id (the leader's pid), if it fits a `pid_t` (it always does on Linux).
    pgid: Option<Pid>,
    leader_reaped: bool,
    done: bool,
    tracker: Tracker,
    /// What a kill could not end (reported with the outcome).
    left: Vec<LeftProcess>,
}

impl Group {
    fn new(child: &Child, tracker: Tracker) -> Self {
        Group {
            pgid: child
                .id()
                .and_then(|pid| i32::try_from(pid).ok())
                .map(Pid::from_raw),
            leader_reaped: false,
            done: false,
            tracker,
            left: Vec::new(),
        }
    }

    fn leader_reaped(&mut self) {
        self.leader_reaped = true;
    }

    /// The step is over: whatever of its tree still runs is killed; returns what survived.
    fn finished(&mut self) -> Vec<LeftProcess> {
        self.done = true;
        self.end_tree();
        std::mem::take(&mut self.left)
    }

    fn end_tree(&mut self) {
        for p in self.tracker.end() {
            if !self.left.iter().any(|l| l.pid == p.pid) {
                self.left.push(p);
            }
        }
    }

    /// `SIGKILL` to the whole group, to the leader, and to the rest of the step's tree.
    fn kill(&mut self, child: &mut Child) {
        self.kill_group();
        if !self.leader_reaped {
            // Fails only if the leader already exited; then there is nothing to kill.
            let _ = child.start_kill();
        }
        self.end_tree();
    }

    fn kill_group(&self) {
        let Some(pgid) = self.pgid else { return };
        match killpg(pgid, Signal::SIGKILL) {
            // ESRCH: every member already exited.
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => {
                tracing::warn!(pgid = pgid.as_raw(), error = %e, "cannot kill a run step's process group")
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // The future was dropped mid-run (task aborted, console quitting): take the step down
        // rather than leave it running unobserved. Tokio reaps the leader in the background.
        if !self.done {
            self.kill_group();
            self.tracker.end();
        }
    }
}

/// Splits a pipe into lines, lossy UTF-8, each at most [`LINE_CAP`] bytes.
///
/// [`LineReader::next_line`] is cancel-safe (it sits in a `select!` with the other pipe and the
/// timers): its only await is `fill_buf`, which consumes nothing, and bytes move from the buffer
/// into `line` without an await in between.
struct LineReader<R> {
    inner: BufReader<R>,
    /// The line read so far, at most `LINE_CAP` bytes.
    line: Vec<u8>,
    /// Set after a truncated line was delivered: drop bytes up to the next newline.
    skipping: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(inner: R) -> Self {
        LineReader {
            inner: BufReader::with_capacity(64 * 1024, inner),
            line: Vec::with_capacity(256),
            skipping: false,
        }
    }

    /// The next line, or `None` at end of file. A read error ends the stream like end of file:
    /// on a pipe it only happens when the pipe is gone.
    async fn next_line(&mut self) -> Option<String> {
        loop {
            let available = match self.inner.fill_buf().await {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "reading a run step's output failed");
                    &[]
                }
            };
            if available.is_empty() {
                // End of file: a last line without a newline is still a line.
                self.skipping = false;
                if self.line.is_empty() {
                    return None;
                }
                return Some(take_line(&mut self.line, false));
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let chunk = &available[..newline.unwrap_or(available.len())];
            let room = LINE_CAP - self.line.len();
            let overflow = !self.skipping && chunk.len() > room && !fits_with_cr(chunk, room);
            if !self.skipping {
                self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            let used = newline.map_or(available.len(), |i| i + 1);
            self.inner.consume(used);

            match (newline.is_some(), self.skipping, overflow) {
                // The end of a line already delivered truncated.
                (true, true, _) => self.skipping = false,
                (false, true, _) => {}
                (true, false, truncated) => return Some(take_line(&mut self.line, truncated)),
                (false, false, true) => {
                    // Deliver now rather than when the newline comes, which may be never.
                    self.skipping = true;
                    return Some(take_line(&mut self.line, true));
                }
                (false, false, false) => {}
            }
        }
    }
}

/// True if `chunk` only exceeds `room` by the `\r` of a `\r\n` ending, which is not content.
fn fits_with_cr(chunk: &[u8], room: usize) -> bool {
    chunk.len() == room + 1 && chunk.last() == Some(&b'\r')
}

/// Turns the collected bytes into a line and clears them for the next one.
fn take_line(buf: &mut Vec<u8>, truncated: bool) -> String {
    if truncated {
        // Do not cut a multi-byte character in half (it would show as U+FFFD).
        let keep = utf8_boundary(buf);
        buf.truncate(keep);
    } else if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    let mut line = match String::from_utf8(std::mem::take(buf)) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    if truncated {
        line.push_str(TRUNCATED_SUFFIX);
    }
    buf.reserve(256);
    line
}

/// The length of `bytes` without a trailing incomplete UTF-8 sequence.
fn utf8_boundary(bytes: &[u8]) -> usize {
    // A UTF-8 sequence is at most 4 bytes: look for its lead byte among the last 4.
    for back in 1..=bytes.len().min(4) {
        let i = bytes.len() - back;
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: keep looking for the lead
        }
        let len = match b {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1, // not a lead byte at all: invalid anyway, keep it (shown as U+FFFD)
        };
        return if i + len > bytes.len() {
            i
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(input: &[u8]) -> Vec<String> {
        let mut reader = LineReader::new(input);
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().await {
            lines.push(line);
        }
        lines
    }

    #[tokio::test]
    async fn splits_lines_and_strips_terminators() {
        assert_eq!(lines_of(b"a\nb\r\n\nlast").await, ["a", "b", "", "last"]);
        assert_eq!(lines_of(b"").await, Vec::<String>::new());
        assert_eq!(lines_of(b"\n").await, [""]);
    }

    #[tokio::test]
    async fn caps_long_lines_and_resumes_after_them() {
        let mut input = vec![b'x'; LINE_CAP * 3];
        input.extend_from_slice(b"\nnext\n");
        let lines = lines_of(&input).await;
        assert_eq!(
            lines.len(),
            2,
            "{:?}",
            lines.iter().map(String::len).collect::<Vec<_>>()
        );
        assert_eq!(
            lines[0],
            format!("{}{TRUNCATED_SUFFIX}", "x".repeat(LINE_CAP))
        );
        assert_eq!(lines[1], "next");
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_cap_is_whole() {
        for ending in [&b"\n"[..], b"\r\n", b""] {
            let mut input = vec![b'y'; LINE_CAP];
            input.extend_from_slice(ending);
            assert_eq!(lines_of(&input).await, ["y".repeat(LINE_CAP)], "{ending:?}");
        }
    }

    #[tokio::test]
    async fn truncation_does_not_split_a_character() {
        // 4095 ASCII bytes, then a 3-byte character straddling the cap.
        let mut input = vec![b'z'; LINE_CAP - 1];
        input.extend_from_slice("€€".as_bytes());
        input.push(b'\n');
        let lines = lines_of(&input).await;
        assert_eq!(
            lines,
            [format!("{}{TRUNCATED_SUFFIX}", "z".repeat(LINE_CAP - 1))]
        );
    }

    #[test]
    fn utf8_boundary_cases() {
        assert_eq!(utf8_boundary(b"abc"), 3);
        assert_eq!(utf8_boundary("a€".as_bytes()), 4);
        assert_eq!(utf8_boundary(&"a€".as_bytes()[..3]), 1);
        assert_eq!(utf8_boundary(&[b'a', 0xFF]), 2);
        assert_eq!(utf8_boundary(&[]), 0);
    }

    #[test]
    fn describe_and_success() {
        assert!(ExecOutcome::Exited { code: 0 }.success());
        assert!(!ExecOutcome::Exited { code: 3 }.success());
        assert!(!ExecOutcome::Killed.success());
        assert_eq!(ExecOutcome::Exited { code: 3 }.describe(), "exit 3");
        assert_eq!(
            ExecOutcome::Signalled { signal: 9 }.describe(),
            "killed by signal 9"
        );
        assert_eq!(
            ExecOutcome::TimedOut {
                after: Dur::from_mins(1)
            }
            .describe(),
            "timed out after 1m"
        );
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("./x"), "./x");
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(printable(""), "\"\"");
    }
}
