//! The `run` step executor against real processes: literal arguments, exit codes, output
//! streaming, timeouts and cancels that leave no process behind, spawn failures, volume.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use warroom::actions::run::{
    ExecEvent, ExecOutcome, LINE_CAP, POST_EXIT_GRACE, Stream, TRUNCATED_SUFFIX, run_argv,
};
use warroom::duration::Dur;

fn owned(argv: &[&str]) -> Vec<String> {
    argv.iter().map(|s| (*s).to_string()).collect()
}

/// Everything one run produced: its events (checked to end with the outcome) and its outcome.
struct Ran {
    events: Vec<ExecEvent>,
    outcome: ExecOutcome,
    took: Duration,
}

impl Ran {
    fn lines(&self, which: Stream) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ExecEvent::Output { stream, line } if *stream == which => Some(line.as_str()),
                _ => None,
            })
            .collect()
    }

    fn stdout(&self) -> Vec<&str> {
        self.lines(Stream::Stdout)
    }

    fn stderr(&self) -> Vec<&str> {
        self.lines(Stream::Stderr)
    }
}

/// Runs to the end without cancelling (the sender stays alive, unused, until the end).
async fn run_in(argv: &[&str], timeout: Option<Dur>, cwd: Option<&Path>) -> Ran {
    let (_keep, cancel) = oneshot::channel();
    let mut events = Vec::new();
    let start = Instant::now();
    let outcome = run_argv(&owned(argv), timeout, cwd, cancel, |e| {
        events.push(e);
        true
    })
    .await;
    let took = start.elapsed();
    assert_eq!(
        events.last(),
        Some(&ExecEvent::Finished(outcome.clone())),
        "the last event must be the outcome"
    );
    let finished = events
        .iter()
        .filter(|e| matches!(e, ExecEvent::Finished(_)))
        .count();
    assert_eq!(finished, 1, "exactly one Finished event");
    Ran {
        events,
        outcome,
        took,
    }
}

async fn run(argv: &[&str], timeout: Option<Dur>) -> Ran {
    run_in(argv, timeout, None).await
}

/// Alive and not a zombie (an unreaped zombie is dead for our purpose: PID 1 in a container may
/// never reap orphans).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => match stat.rsplit_once(')') {
            Some((_, rest)) => !rest.trim_start().starts_with('Z'),
            None => true,
        },
    }
}

/// Waits up to `within` for `pid` to die; true if it did.
async fn dies_within(pid: i32, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    !alive(pid)
}

fn pid_from(line: &str) -> i32 {
    line.trim()
        .parse()
        .unwrap_or_else(|e| panic!("expected a pid, got {line:?}: {e}"))
}

fn kill_if_alive(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

const ECHO_ARGV: &str = "import sys, json; print(json.dumps(sys.argv[1:]))";

#[tokio::test]
async fn hostile_arguments_reach_the_child_as_literal_single_arguments() {
    let hostile = [
        "; rm -rf /",
        "$(reboot)",
        "`id`",
        "a b",
        "quote\"d 'x'",
        "new\nline",
        "*",
        "$HOME",
        "",
        "  padded  ",
        "-rf",
        "--",
        "> /etc/passwd",
        "| cat",
        "&& echo pwned",
        "\\",
        "%s%n",
        "{{var}}",
        "tab\there",
        "\u{1b}[2J",
        "ünïcødé ✓",
    ];
    let mut argv = vec!["python3", "-c", ECHO_ARGV];
    argv.extend(hostile);
    let ran = run(&argv, Some(Dur::from_secs(30))).await;
    assert_eq!(
        ran.outcome,
        ExecOutcome::Exited { code: 0 },
        "{:?}",
        ran.events
    );
    assert_eq!(ran.stdout().len(), 1, "{:?}", ran.events);
    let received: Vec<String> = serde_json::from_str(ran.stdout()[0]).unwrap_or_else(|e| {
        panic!("child output is not JSON ({e}): {:?}", ran.stdout()[0]);
    });
    assert_eq!(received, hostile);
}

#[tokio::test]
async fn a_program_name_with_shell_syntax_is_a_file_name_not_a_command() {
    let ran = run(&["echo pwned; true"], None).await;
    match &ran.outcome {
        ExecOutcome::SpawnFailed { message } => {
            assert!(message.contains("echo pwned; true"), "{message}");
            assert!(message.contains("No such file or directory"), "{message}");
        }
        other => panic!("ran a shell? {other:?} {:?}", ran.events),
    }
    assert!(ran.stdout().is_empty());
}

#[tokio::test]
async fn a_nul_byte_in_an_argument_fails_to_start_without_panicking() {
    let ran = run(&["echo", "a\0b"], None).await;
    assert!(
        matches!(ran.outcome, ExecOutcome::SpawnFailed { .. }),
        "{:?}",
        ran.outcome
    );
}

#[tokio::test]
async fn exit_zero_is_success_with_both_streams_in_order() {
    let script = "import sys\n\
                  for i in range(3):\n\
                  \x20   print(f'out {i}', flush=True)\n\
                  \x20   print(f'err {i}', file=sys.stderr, flush=True)\n";
    let ran = run(&["python3", "-c", script], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    assert!(ran.outcome.success());
    assert_eq!(ran.outcome.describe(), "exit 0");
    assert_eq!(ran.stdout(), ["out 0", "out 1", "out 2"]);
    assert_eq!(ran.stderr(), ["err 0", "err 1", "err 2"]);
}

#[tokio::test]
async fn exit_three_is_a_failure_with_code_three() {
    let ran = run(&["bash", "-c", "echo before; echo oops >&2; exit 3"], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 3 });
    assert!(!ran.outcome.success());
    assert_eq!(ran.outcome.describe(), "exit 3");
    assert_eq!(ran.stdout(), ["before"]);
    assert_eq!(ran.stderr(), ["oops"]);
}

#[tokio::test]
async fn streams_interleave_in_arrival_order() {
    // Gaps of 100 ms make the arrival order unambiguous.
    let script = "import sys, time\n\
                  for i in range(3):\n\
                  \x20   print(f'out {i}', flush=True); time.sleep(0.1)\n\
                  \x20   print(f'err {i}', file=sys.stderr, flush=True); time.sleep(0.1)\n";
    let ran = run(&["python3", "-c", script], None).await;
    let order: Vec<&str> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Output { line, .. } => Some(line.as_str()),
            ExecEvent::LeftRunning(_) | ExecEvent::Finished(_) => None,
        })
        .collect();
    assert_eq!(
        order,
        ["out 0", "err 0", "out 1", "err 1", "out 2", "err 2"]
    );
}

#[tokio::test]
async fn output_arrives_while_the_child_still_runs() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_keep, cancel) = oneshot::channel();
    let task = tokio::spawn(async move {
        let argv = owned(&["bash", "-c", "echo first; sleep 2; echo second"]);
        run_argv(&argv, None, None, cancel, move |e| tx.send(e).is_ok()).await
    });
    let start = Instant::now();
    let first = tokio::time::timeout(Duration::from_millis(1500), rx.recv()).await;
    assert!(
        matches!(&first, Ok(Some(ExecEvent::Output { line, .. })) if line == "first"),
        "{first:?}"
    );
    // Well before the child ends (2 s): lines are streamed, not collected.
    assert!(start.elapsed() < Duration::from_millis(1500));
    let outcome = task.await.unwrap_or_else(|e| panic!("task failed: {e}"));
    assert_eq!(outcome, ExecOutcome::Exited { code: 0 });
}

#[tokio::test]
async fn a_signal_from_elsewhere_is_reported_as_such() {
    let ran = run(&["bash", "-c", "kill -TERM $$"], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Signalled { signal: 15 });
    assert_eq!(ran.outcome.describe(), "killed by signal 15");
    assert!(!ran.outcome.success());
}

#[tokio::test]
async fn timeout_kills_the_child_in_time() {
    let ran = run(&["sleep", "30"], Some(Dur::from_secs(1))).await;
    assert_eq!(
        ran.outcome,
        ExecOutcome::TimedOut {
            after: Dur::from_secs(1)
        }
    );
    assert_eq!(ran.outcome.describe(), "timed out after 1s");
    assert!(!ran.outcome.success());
    assert!(
        ran.took >= Duration::from_millis(900) && ran.took < Duration::from_secs(2),
        "took {:?}",
        ran.took
    );
}

#[tokio::test]
async fn timeout_kills_grandchildren_too() {
    let ran = run(
        &["bash", "-c", "sleep 30 & echo $!; sleep 30"],
        Some(Dur::from_secs(1)),
    )
    .await;
    assert!(
        matches!(ran.outcome, ExecOutcome::TimedOut { .. }),
        "{:?}",
        ran.outcome
    );
    assert!(ran.took < Duration::from_secs(2), "took {:?}", ran.took);
    let grandchild = pid_from(ran.stdout()[0]);
    let dead = dies_within(grandchild, Duration::from_secs(2)).await;
    kill_if_alive(grandchild);
    assert!(dead, "grandchild {grandchild} survived the timeout");
}

#[tokio::test]
async fn a_background_process_holding_the_output_is_killed_after_the_step_exits() {
    let ran = run(&["bash", "-c", "sleep 30 & echo $!; exit 0"], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    assert!(
        ran.took >= POST_EXIT_GRACE && ran.took < POST_EXIT_GRACE + Duration::from_secs(2),
        "took {:?}",
        ran.took
    );
    let leftover = pid_from(ran.stdout()[0]);
    let dead = dies_within(leftover, Duration::from_secs(2)).await;
    kill_if_alive(leftover);
    assert!(dead, "leftover {leftover} still runs");
}

#[tokio::test]
async fn a_background_process_with_its_own_output_ends_with_the_step() {
    let ran = run(&["bash", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    // Not held up by the grace period for processes that keep the output open.
    assert!(ran.took < POST_EXIT_GRACE, "took {:?}", ran.took);
    let detached = pid_from(ran.stdout()[0]);
    let dead = dies_within(detached, Duration::from_secs(1)).await;
    kill_if_alive(detached);
    assert!(dead, "a background process {detached} outlived its step");
}

/// Live (not zombie) processes whose command line is `words` and whose environment carries a
/// step marker of this process (`WARROOM_STEP=<our pid>-N`): a step's leftovers.
fn leftovers(words: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = words
        .iter()
        .flat_map(|w| [w.as_bytes(), b"\0"].concat())
        .collect();
    let marker = format!(
        "{}={}-",
        warroom::actions::run::MARKER_ENV,
        std::process::id()
    );
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let marked = environ
            .split(|&b| b == 0)
            .any(|v| v.starts_with(marker.as_bytes()));
        if cmdline == want && marked && alive(pid) {
            found.push(pid);
        }
    }
    found
}

#[tokio::test]
async fn a_setsid_child_ends_with_the_step() {
    let ran = run(&["sh", "-c", "setsid sleep 300 & echo started"], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    assert_eq!(ran.stdout(), ["started"]);
    // The setsid child held the output pipe: it was killed after the grace period, not left.
    let left = leftovers(&["sleep", "300"]);
    left.iter().for_each(|&p| kill_if_alive(p));
    assert!(
        left.is_empty(),
        "setsid children survived the step: {left:?}"
    );
}

#[tokio::test]
async fn a_daemonised_grandchild_with_its_own_output_ends_with_the_step() {
    // Double fork, new session, output elsewhere: only the marker and the tree find it.
    let script = "setsid sh -c 'sleep 301 >/dev/null 2>&1 &' >/dev/null 2>&1 </dev/null & \
                  sleep 0.3; echo done";
    let ran = run(&["sh", "-c", script], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    assert!(ran.took < POST_EXIT_GRACE, "took {:?}", ran.took);
    let left = leftovers(&["sleep", "301"]);
    left.iter().for_each(|&p| kill_if_alive(p));
    assert!(
        left.is_empty(),
        "a daemonised grandchild survived: {left:?}"
    );
}

#[tokio::test]
async fn a_setsid_child_ends_with_a_timed_out_step_too() {
    let ran = run(
        &[
            "sh",
            "-c",
            "setsid sleep 302 >/dev/null 2>&1 & echo started; sleep 60",
        ],
        Some(Dur::from_secs(1)),
    )
    .await;
    assert_eq!(
        ran.outcome,
        ExecOutcome::TimedOut {
            after: Dur::from_secs(1)
        }
    );
    let left = leftovers(&["sleep", "302"]);
    left.iter().for_each(|&p| kill_if_alive(p));
    assert!(
        left.is_empty(),
        "setsid children survived the timeout: {left:?}"
    );
}

#[tokio::test]
async fn what_cannot_be_killed_is_reported_with_pid_and_command() {
    use warroom::actions::run::{Spawn, Tracker, run_step};
    let tracker = Tracker::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cancel_tx, cancel) = oneshot::channel();
    let argv = owned(&["sh", "-c", "setsid sleep 303 & echo started; exec sleep 60"]);
    let env = vec![("TOKEN".to_string(), "from-env".to_string())];
    let step_tracker = tracker.clone();
    let task = tokio::spawn(async move {
        let spec = Spawn {
            argv: &argv,
            env: &env,
            timeout: None,
            cwd: None,
        };
        run_step(spec, &step_tracker, cancel, move |e| tx.send(e).is_ok()).await
    });
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert!(matches!(&first, Ok(Some(ExecEvent::Output { line, .. })) if line == "started"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A process that refuses to die (another user's, or stuck in the kernel) is simulated by a
    // signaller that is refused.
    let refused = tracker.end_with(&mut |_| Err(nix::errno::Errno::EPERM));
    let commands: Vec<&str> = refused.iter().map(|p| p.command.as_str()).collect();
    assert!(commands.contains(&"sleep 303"), "{refused:?}");
    assert!(commands.contains(&"sleep 60"), "{refused:?}");
    assert!(refused.iter().all(|p| p.pid > 0));
    // Really ending it reports nothing left.
    let _ = cancel_tx.send(());
    let outcome = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("ends")
        .expect("no panic");
    assert_eq!(outcome, ExecOutcome::Killed);
    let mut left_events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let ExecEvent::LeftRunning(p) = e {
            left_events.push(p);
        }
    }
    assert!(left_events.is_empty(), "{left_events:?}");
    let left = leftovers(&["sleep", "303"]);
    left.iter().for_each(|&p| kill_if_alive(p));
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn env_reaches_the_program() {
    use warroom::actions::run::{Spawn, Tracker, run_step};
    let argv = owned(&["sh", "-c", "echo \"$TOKEN|$OTHER\""]);
    let env = vec![
        ("OTHER".to_string(), "two words".to_string()),
        ("TOKEN".to_string(), "s3cr3t".to_string()),
    ];
    let (_keep, cancel) = oneshot::channel();
    let mut lines = Vec::new();
    let spec = Spawn {
        argv: &argv,
        env: &env,
        timeout: None,
        cwd: None,
    };
    let outcome = run_step(spec, &Tracker::new(), cancel, |e| {
        if let ExecEvent::Output { line, .. } = e {
            lines.push(line);
        }
        true
    })
    .await;
    assert_eq!(outcome, ExecOutcome::Exited { code: 0 });
    assert_eq!(lines, ["s3cr3t|two words"]);
}

#[tokio::test]
async fn cancel_kills_the_child_and_its_group() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cancel_tx, cancel) = oneshot::channel();
    let task = tokio::spawn(async move {
        let argv = owned(&["bash", "-c", "sleep 30 & echo $!; sleep 30"]);
        run_argv(&argv, None, None, cancel, move |e| tx.send(e).is_ok()).await
    });
    let grandchild = match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(ExecEvent::Output { line, .. })) => pid_from(&line),
        other => panic!("no pid line: {other:?}"),
    };
    let start = Instant::now();
    assert!(cancel_tx.send(()).is_ok());
    let outcome = tokio::time::timeout(Duration::from_secs(3), task).await;
    let dead = dies_within(grandchild, Duration::from_secs(2)).await;
    kill_if_alive(grandchild);
    assert!(
        matches!(&outcome, Ok(Ok(ExecOutcome::Killed))),
        "{outcome:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(dead, "grandchild {grandchild} survived the cancel");
    assert_eq!(
        rx.recv().await,
        Some(ExecEvent::Finished(ExecOutcome::Killed))
    );
}

#[tokio::test]
async fn dropping_the_cancel_sender_does_not_cancel() {
    let (cancel_tx, cancel) = oneshot::channel::<()>();
    drop(cancel_tx);
    let argv = owned(&["bash", "-c", "sleep 0.3; exit 4"]);
    let outcome = run_argv(&argv, None, None, cancel, |_| true).await;
    assert_eq!(outcome, ExecOutcome::Exited { code: 4 });
}

#[tokio::test]
async fn aborting_the_task_kills_the_process_group() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_keep, cancel) = oneshot::channel();
    let task = tokio::spawn(async move {
        let argv = owned(&["bash", "-c", "sleep 30 & echo $!; sleep 30"]);
        run_argv(&argv, None, None, cancel, move |e| tx.send(e).is_ok()).await
    });
    let grandchild = match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(ExecEvent::Output { line, .. })) => pid_from(&line),
        other => panic!("no pid line: {other:?}"),
    };
    task.abort();
    let dead = dies_within(grandchild, Duration::from_secs(2)).await;
    kill_if_alive(grandchild);
    assert!(dead, "grandchild {grandchild} survived the aborted task");
}

#[tokio::test]
async fn a_missing_program_fails_to_start_naming_it() {
    let ran = run(&["./definitely-not-here-warroom", "arg"], None).await;
    assert_eq!(
        ran.outcome,
        ExecOutcome::SpawnFailed {
            message:
                "cannot start ./definitely-not-here-warroom: No such file or directory (os error 2)"
                    .to_string()
        }
    );
    assert_eq!(
        ran.outcome.describe(),
        "cannot start ./definitely-not-here-warroom: No such file or directory (os error 2)"
    );
    assert!(!ran.outcome.success());
    assert_eq!(ran.events.len(), 1);
}

#[tokio::test]
async fn a_missing_working_directory_is_named() {
    let ran = run_in(&["true"], None, Some(Path::new("/nonexistent-warroom-dir"))).await;
    match &ran.outcome {
        ExecOutcome::SpawnFailed { message } => {
            assert!(
                message.starts_with("cannot start true in /nonexistent-warroom-dir: "),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn empty_argv_fails_to_start() {
    let ran = run(&[], None).await;
    match &ran.outcome {
        ExecOutcome::SpawnFailed { message } => {
            assert!(message.contains("empty command"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let ran = run(&[""], None).await;
    assert!(
        matches!(ran.outcome, ExecOutcome::SpawnFailed { .. }),
        "{:?}",
        ran.outcome
    );
}

#[tokio::test]
async fn large_output_on_both_streams_is_delivered_completely() {
    let script = "import sys\n\
                  out, err = sys.stdout, sys.stderr\n\
                  for i in range(200000):\n\
                  \x20   out.write(f'{i}\\n')\n\
                  \x20   if i % 4 == 0: err.write(f'e{i}\\n')\n";
    let (_keep, cancel) = oneshot::channel();
    let (mut n_out, mut n_err, mut in_order) = (0u64, 0u64, true);
    let start = Instant::now();
    let outcome = run_argv(
        &owned(&["python3", "-c", script]),
        Some(Dur::from_secs(120)),
        None,
        cancel,
        |e| {
            match e {
                ExecEvent::Output {
                    stream: Stream::Stdout,
                    line,
                } => {
                    in_order &= line == n_out.to_string();
                    n_out += 1;
                }
                ExecEvent::Output {
                    stream: Stream::Stderr,
                    line,
                } => {
                    in_order &= line == format!("e{}", n_err * 4);
                    n_err += 1;
                }
                ExecEvent::LeftRunning(_) | ExecEvent::Finished(_) => {}
            }
            true
        },
    )
    .await;
    eprintln!("200000 + 50000 lines in {:?}", start.elapsed());
    assert_eq!(outcome, ExecOutcome::Exited { code: 0 });
    assert_eq!((n_out, n_err), (200_000, 50_000));
    assert!(in_order, "lines out of order or altered");
}

#[tokio::test]
async fn invalid_utf8_and_a_last_line_without_newline_are_delivered() {
    let script = "import sys\n\
                  sys.stdout.buffer.write(b'ok \\xff\\xfe bad\\r\\nno newline at end')\n\
                  sys.stderr.buffer.write(b'half \\xe2\\x82')\n";
    let ran = run(&["python3", "-c", script], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    assert_eq!(
        ran.stdout(),
        ["ok \u{FFFD}\u{FFFD} bad", "no newline at end"]
    );
    assert_eq!(ran.stderr(), ["half \u{FFFD}"]);
}

#[tokio::test]
async fn a_very_long_line_is_capped_and_marked() {
    let script = "print('x' * 1000000); print('after')";
    let ran = run(&["python3", "-c", script], None).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    let expected = format!("{}{TRUNCATED_SUFFIX}", "x".repeat(LINE_CAP));
    assert_eq!(ran.stdout(), [expected.as_str(), "after"]);
}

#[tokio::test]
async fn when_nobody_listens_the_step_still_runs_to_its_end() {
    let marker = std::env::temp_dir().join(format!("warroom-exec-{}-listener", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let (_keep, cancel) = oneshot::channel();
    let mut calls = 0;
    let argv = owned(&[
        "bash",
        "-c",
        "echo one; echo two; sleep 0.2; echo done > \"$1\"",
        "script",
        &marker.to_string_lossy(),
    ]);
    let outcome = run_argv(&argv, None, None, cancel, |_| {
        calls += 1;
        false
    })
    .await;
    let finished = std::fs::read_to_string(&marker);
    let _ = std::fs::remove_file(&marker);
    assert_eq!(outcome, ExecOutcome::Exited { code: 0 });
    assert_eq!(calls, 1, "kept sending after send returned false");
    assert_eq!(finished.ok().as_deref(), Some("done\n"));
}

#[tokio::test]
async fn runs_in_the_given_directory_with_stdin_closed() {
    let ran = run_in(&["pwd"], None, Some(Path::new("/"))).await;
    assert_eq!(ran.stdout(), ["/"]);
    // `cat` would wait forever on a terminal or an inherited pipe; with stdin null it ends.
    let ran = run(&["cat"], Some(Dur::from_secs(5))).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    assert!(ran.stdout().is_empty());
}

#[tokio::test]
async fn absurd_timeouts_do_not_panic() {
    let ran = run(&["true"], Some(Dur::from_secs(u64::MAX))).await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    let ran = run(&["sleep", "5"], Some(Dur::ZERO)).await;
    assert_eq!(ran.outcome, ExecOutcome::TimedOut { after: Dur::ZERO });
    assert!(ran.took < Duration::from_secs(1), "took {:?}", ran.took);
}

/// warroom is a child subreaper: an orphaned step process comes to it, and once it exits it is
/// reaped (no zombie left behind).
#[tokio::test]
async fn an_orphaned_step_process_that_exits_is_reaped_not_left_a_zombie() {
    let ran = run(
        &[
            "sh",
            "-c",
            "(setsid sleep 0.8 >/dev/null 2>&1 & echo $!); sleep 2; echo done",
        ],
        None,
    )
    .await;
    assert_eq!(ran.outcome, ExecOutcome::Exited { code: 0 });
    let orphan = pid_from(ran.stdout()[0]);
    // It was re-parented to this process (the subreaper) when its subshell exited.
    let stat = std::fs::read_to_string(format!("/proc/{orphan}/stat")).unwrap_or_default();
    let exists = !stat.is_empty();
    assert!(
        !exists,
        "the orphan {orphan} was not reaped: {}",
        stat.trim()
    );
}
