//! A fuzz target for the four input parsers (issue 9): playbooks, environments, themes and
//! journals, through the library entry points the commands use (`check_paths`,
//! `Environment::load`, `Theme::resolve`, `journal::decode` + `verify`).
//!
//! Inputs are mutations of the corpus in `tests/fuzz_corpus/{playbook,env,theme,journal}/` (the
//! shipped playbooks and themes, the demo environment and the fixtures, plus hostile files):
//! byte flips and sets, insertions of random bytes or of syntax tokens, deletions, truncations,
//! splices of another corpus file, duplicated lines; a mutated version-2 journal is sometimes
//! re-sealed (every line's hash and `prev` recomputed) so that mutations get past the hash chain
//! to the event decoder.
//!
//! Properties, for every input:
//! - no panic;
//! - an error always has a location: `path:line:col` for the TOML files (line and column within
//!   the file), `path:line` for journals;
//! - the error text is bounded ([`MAX_ERROR_BYTES`] per diagnostic);
//! - success re-validates: what loads once loads again, a loaded environment's URLs and DSNs pass
//!   the checks `status` and the console apply, a playbook renders as a runbook, a theme also
//!   loads without colour, a journal that decodes also verifies (intact or unchained) and
//!   yields a report.
//!
//! Cases per parser: `PROPTEST_CASES` (default [`DEFAULT_CASES`], which keeps this file at a few
//! seconds in a debug build); CI raises it (see `.ci/run`). A failing case is shrunk and saved
//! in `tests/fuzz_parsers.proptest-regressions` (replayed first on every run); when fixing
//! the parser, add the input to the corpus too (regression seeds depend on the corpus).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError};

use warroom::diag::Diagnostic;
use warroom::env::Environment;
use warroom::theme::{Theme, ThemeError};

/// Cases per parser when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 500;

/// Longest one diagnostic (or journal error) may be, in bytes, message and help included.
const MAX_ERROR_BYTES: usize = 2048;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn config() -> Config {
    Config {
        cases: cases(),
        // Shrinking a slow case can take long; a few hundred steps find a small input.
        max_shrink_iters: 500,
        ..Config::default()
    }
}

/// One corpus: `(file name, bytes)`, sorted by name.
type Corpus = Vec<(String, Vec<u8>)>;

fn load_corpus(kind: &str) -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(kind);
    let mut files: Corpus = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("read a corpus file");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "corpus {kind} has {} files", files.len());
    files
}

fn corpus(kind: &'static str) -> &'static Corpus {
    static PLAYBOOK: OnceLock<Corpus> = OnceLock::new();
    static ENV: OnceLock<Corpus> = OnceLock::new();
    static THEME: OnceLock<Corpus> = OnceLock::new();
    static JOURNAL: OnceLock<Corpus> = OnceLock::new();
    let cell = match kind {
        "playbook" => &PLAYBOOK,
        "env" => &ENV,
        "theme" => &THEME,
        _ => &JOURNAL,
    };
    cell.get_or_init(|| load_corpus(kind))
}

/// Bytes that mean something to TOML, JSON or the validators, and hostile ones.
const TOKENS: &[&[u8]] = &[
    b"[[",
    b"]]",
    b"[",
    b"]",
    b"{",
    b"}",
    b"=",
    b" = ",
    b"\"",
    b"'''",
    b"\"\"\"",
    b"\n",
    b"\r\n",
    b",",
    b".",
    b":",
    b"#",
    b"\\",
    b"\\u0000",
    b"\\uD800",
    b"\\x1b",
    b"true",
    b"false",
    b"null",
    b"-1",
    b"0",
    b"1e999",
    b"-0.0",
    b"nan",
    b"inf",
    b"18446744073709551616",
    b"99999999999999999999h",
    b"0s",
    b"1h30m",
    b"9999-12-31T23:59:59Z",
    b"1970-01-01T00:00:00Z",
    b"\x1b]52;c;QQ==\x07",
    b"\x1b[2J",
    b"\xc2\x85",
    b"\xe2\x80\xae",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"[[steps]]\n",
    b"[[databases]]\n",
    b"[[regions]]\n",
    b"{{",
    b"}}",
    b"{{x}}",
    b"id = \"a\"\n",
    b"\"seq\":",
    b"\"kind\":",
    b"\"prev\":",
    b"\"sha256\":",
    b"\"at\":",
    b"\"version\":2",
    b"\"version\":1",
    b"region-loss",
    b"primary",
    b"dr-replica",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: Index,
        bit: u8,
    },
    Set {
        at: Index,
        byte: u8,
    },
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    Token {
        at: Index,
        token: Index,
    },
    Delete {
        at: Index,
        len: u8,
    },
    Truncate {
        at: Index,
    },
    /// Inserts a slice of another corpus file of the same kind.
    Splice {
        file: Index,
        start: Index,
        len: u16,
        at: Index,
    },
    DuplicateLine {
        at: Index,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        2 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        4 => (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Token { at, token }),
        2 => (any::<Index>(), 1u8..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<Index>(), any::<Index>(), 1u16..2048, any::<Index>())
            .prop_map(|(file, start, len, at)| Mutation::Splice { file, start, len, at }),
        1 => any::<Index>().prop_map(|at| Mutation::DuplicateLine { at }),
    ]
}

fn apply(input: &mut Vec<u8>, m: &Mutation, corpus: &Corpus) {
    let pos = |at: &Index, len: usize| if len == 0 { 0 } else { at.index(len + 1) };
    match m {
        Mutation::Flip { at, bit } if !input.is_empty() => {
            let i = at.index(input.len());
            input[i] ^= 1 << bit;
        }
        Mutation::Set { at, byte } if !input.is_empty() => {
            let i = at.index(input.len());
            input[i] = *byte;
        }
        Mutation::Flip { .. } | Mutation::Set { .. } => {}
        Mutation::Insert { at, bytes } => {
            let i = pos(at, input.len());
            input.splice(i..i, bytes.iter().copied());
        }
        Mutation::Token { at, token } => {
            let i = pos(at, input.len());
            input.splice(i..i, TOKENS[token.index(TOKENS.len())].iter().copied());
        }
        Mutation::Delete { at, len } => {
            if !input.is_empty() {
                let i = at.index(input.len());
                let end = (i + usize::from(*len)).min(input.len());
                input.drain(i..end);
            }
        }
        Mutation::Truncate { at } => {
            let i = pos(at, input.len());
            input.truncate(i);
        }
        Mutation::Splice {
            file,
            start,
            len,
            at,
        } => {
            let other = &corpus[file.index(corpus.len())].1;
            if !other.is_empty() {
                let s = start.index(other.len());
                let e = (s + usize::from(*len)).min(other.len());
                let i = pos(at, input.len());
                input.splice(i..i, other[s..e].iter().copied());
            }
        }
        Mutation::DuplicateLine { at } => {
            let starts: Vec<usize> = std::iter::once(0)
                .chain(
                    input
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .filter(|&i| i < input.len())
                .collect();
            if !starts.is_empty() {
                let s = starts[at.index(starts.len())];
                let e = input[s..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(input.len(), |p| s + p + 1);
                let line = input[s..e].to_vec();
                input.splice(e..e, line);
            }
        }
    }
}

/// One fuzz input: a corpus file, the mutations applied in order, and (journals) whether to
/// re-seal the hash chain afterwards.
#[derive(Debug, Clone)]
struct Case {
    file: Index,
    mutations: Vec<Mutation>,
    reseal: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<Index>(),
        proptest::collection::vec(mutation(), 0..6),
        any::<bool>(),
    )
        .prop_map(|(file, mutations, reseal)| Case {
            file,
            mutations,
            reseal,
        })
}

impl Case {
    fn input(&self, corpus: &Corpus) -> (String, Vec<u8>) {
        let (name, base) = &corpus[self.file.index(corpus.len())];
        let mut bytes = base.clone();
        for m in &self.mutations {
            apply(&mut bytes, m, corpus);
        }
        (name.clone(), bytes)
    }
}

/// A scratch file per parser for the entry points that read a path.
struct Scratch(PathBuf);

impl Scratch {
    fn new(kind: &str) -> Scratch {
        // Unique per Scratch: the tests of this file run in parallel threads of one process.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("warroom-fuzz-{kind}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write the case");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lines_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count() + 1
}

/// `d` is located in `path`, within the input, and its text is bounded.
fn located(d: &Diagnostic, path: &str, input: &[u8]) -> Result<(), TestCaseError> {
    let text = d.to_string();
    prop_assert_eq!(&d.path, path, "diagnostic names another file: {}", text);
    prop_assert!(d.line >= 1 && d.col >= 1, "no location: {}", text);
    prop_assert!(
        d.line <= lines_in(input),
        "line {} beyond the input's {} lines: {}",
        d.line,
        lines_in(input),
        text
    );
    prop_assert!(
        text.starts_with(&format!("{path}:{}:{}: ", d.line, d.col)),
        "not path:line:col: {}",
        text
    );
    prop_assert!(
        text.len() <= MAX_ERROR_BYTES,
        "error text of {} bytes: {}…",
        text.len(),
        &text.chars().take(300).collect::<String>()
    );
    Ok(())
}

/// Checks one input of `kind` (written to a scratch file named `name`) against the properties.
fn check(kind: &str, name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let scratch = Scratch::new(kind);
    let path = scratch.write(name, bytes);
    match kind {
        "playbook" => check_playbook(&path, bytes),
        "env" => check_environment(&path, bytes),
        "theme" => check_theme(&path, bytes),
        _ => check_journal(&path, bytes),
    }
}

fn check_playbook(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let shown = path.display().to_string();
    let env = Environment::demo();
    // What `warroom check FILE` does.
    let report = warroom::playbook::check_paths(&[path.to_path_buf()], &env);
    prop_assert!(report.path_errors.is_empty());
    prop_assert_eq!(report.files.len(), 1);
    match &report.files[0].result {
        Err(ds) => {
            prop_assert!(!ds.0.is_empty(), "an error without a diagnostic");
            for d in &ds.0 {
                located(d, &shown, bytes)?;
            }
        }
        Ok(pb) => {
            let again = warroom::playbook::load_file(path, &env);
            prop_assert!(again.is_ok(), "loaded once, not twice: {:?}", again.err());
            // What `warroom show` prints.
            let text = warroom::playbook::render(pb, &env, warroom::playbook::Format::Text);
            let md = warroom::playbook::render(pb, &env, warroom::playbook::Format::Markdown);
            prop_assert!(!text.is_empty() && !md.is_empty());
        }
    }
    Ok(())
}

fn check_environment(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let shown = path.display().to_string();
    match Environment::load(path) {
        Err(ds) => {
            prop_assert!(!ds.0.is_empty(), "an error without a diagnostic");
            for d in &ds.0 {
                located(d, &shown, bytes)?;
            }
        }
        Ok(env) => {
            let text = String::from_utf8(bytes.to_vec()).expect("it loaded: UTF-8");
            let again = Environment::parse(&shown, &text);
            prop_assert!(again.is_ok(), "loaded once, not twice: {:?}", again.err());
            // What `status` and the console refuse, the loader refused already.
            for r in &env.regions {
                for url in &r.health {
                    let problem = warroom::telemetry::http::health_url_problem(url.get_ref());
                    prop_assert!(
                        problem.is_none(),
                        "accepted a health URL that the console refuses: {:?}",
                        problem
                    );
                }
            }
            for db in &env.databases {
                if let Some(pg) = &db.postgres {
                    let dsn = warroom::env::postgres::parse_dsn(pg.dsn.get_ref());
                    prop_assert!(
                        dsn.is_ok(),
                        "accepted a DSN that does not parse: {:?}",
                        dsn.err()
                    );
                }
            }
            // The simulator runs any environment the loader accepts.
            if env.backend() == warroom::env::Backend::Sim {
                let t0 = chrono::DateTime::from_timestamp(1_790_000_000, 0).expect("a time");
                let mut sim = warroom::sim::Sim::new(&env, 7, t0);
                sim.advance(t0 + chrono::TimeDelta::minutes(5));
                let _ = sim.sample();
            }
        }
    }
    Ok(())
}

fn check_theme(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let shown = path.display().to_string();
    // What every command given `--theme FILE` does.
    match Theme::resolve(&shown, false) {
        Err(ThemeError::Invalid(d)) => located(&d, &shown, bytes)?,
        Err(other) => prop_assert!(false, "not a located error: {}", other),
        Ok(_) => {
            let again = Theme::resolve(&shown, true);
            prop_assert!(
                again.is_ok(),
                "loaded once, not without colour: {:?}",
                again.err()
            );
        }
    }
    Ok(())
}

fn check_journal(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let shown = path.display().to_string();
    // What `report`, `--resume` and `follow` read.
    match warroom::journal::decode(path, bytes) {
        Err(e) => {
            let text = e.to_string();
            let line = e.line();
            prop_assert!(line.is_some(), "a journal error without a line: {}", text);
            let line = line.unwrap_or_default();
            prop_assert!(
                line >= 1 && line <= lines_in(bytes),
                "line {} of {}: {}",
                line,
                lines_in(bytes),
                text
            );
            prop_assert!(
                text.contains(&format!("{shown}:{line}")),
                "not path:line: {}",
                text
            );
            prop_assert!(
                text.len() <= MAX_ERROR_BYTES,
                "error text of {} bytes: {}…",
                text.len(),
                &text.chars().take(400).collect::<String>()
            );
        }
        Ok(_) => {
            let verified = warroom::journal::verify(path);
            prop_assert!(
                matches!(
                    verified,
                    Ok(warroom::journal::Verified::Intact { .. }
                        | warroom::journal::Verified::Unchained { .. })
                ),
                "decodes but does not verify: {:?}",
                verified
            );
            // What `warroom report` prints.
            for format in [
                warroom::report::Format::Markdown,
                warroom::report::Format::Json,
            ] {
                let report = warroom::report::render_path(path, format);
                prop_assert!(
                    report.is_ok(),
                    "decodes but gives no report: {:?}",
                    report.err()
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn playbooks(case in case()) {
        let (name, bytes) = case.input(corpus("playbook"));
        check("playbook", &name, &bytes)?;
    }

    #[test]
    fn environments(case in case()) {
        let (name, bytes) = case.input(corpus("env"));
        check("env", &name, &bytes)?;
    }

    #[test]
    fn themes(case in case()) {
        let (name, bytes) = case.input(corpus("theme"));
        check("theme", &name, &bytes)?;
    }

    #[test]
    fn journals(case in case()) {
        let (name, mut bytes) = case.input(corpus("journal"));
        if case.reseal {
            bytes = reseal(&bytes);
        }
        check("journal", &name, &bytes)?;
    }
}

/// Every corpus file as it is (the hostile ones, the inputs that once failed) holds the same
/// properties, whatever the random cases pick.
#[test]
fn every_corpus_file_as_it_is() {
    for kind in ["playbook", "env", "theme", "journal"] {
        for (name, bytes) in corpus(kind) {
            if let Err(e) = check(kind, name, bytes) {
                panic!("{kind}/{name}: {e}");
            }
        }
    }
}

/// Recomputes a version-2 journal's chain after mutation: each line that ends with a `sha256`
/// field gets its `prev` set to the previous line's hash and its own hash recomputed, so that
/// a mutation inside a line reaches the decoder instead of stopping at the hash check.
fn reseal(bytes: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    const FIELD: &[u8] = b",\"sha256\":\"";
    const SUFFIX: usize = 11 + 64 + 2;
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut out = Vec::with_capacity(bytes.len());
    let mut prev: Option<String> = None;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        let sealed = line.len() >= SUFFIX && line[line.len() - SUFFIX..].starts_with(FIELD);
        if !sealed {
            out.extend_from_slice(line);
            continue;
        }
        let mut body = line[..line.len() - SUFFIX].to_vec();
        if let Some(p) = &prev
            && let Some(at) = find(&body, b"\"prev\":\"")
            && body.len() >= at + 8 + 64
        {
            body.splice(at + 8..at + 8 + 64, p.bytes());
        }
        let mut whole = body.clone();
        whole.push(b'}');
        let h = hex(&Sha256::digest(&whole));
        out.extend_from_slice(&body);
        out.extend_from_slice(FIELD);
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\"}");
        prev = Some(h);
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The re-sealing itself is right: an unmutated version-2 journal re-sealed is byte for byte
/// the same, and a line changed then re-sealed still verifies (so the fuzzer reaches the decoder).
#[test]
fn resealing_a_journal_keeps_it_valid() {
    let (_, v2) = corpus("journal")
        .iter()
        .find(|(n, _)| n == "v2-region-loss-drill.jsonl")
        .expect("the v2 journal is in the corpus");
    assert_eq!(&reseal(v2), v2);
    let changed = String::from_utf8(v2.clone()).expect("UTF-8").replacen(
        "\"operator\":\"alice\"",
        "\"operator\":\"mallory\"",
        1,
    );
    assert_ne!(changed.as_bytes(), v2.as_slice());
    let scratch = Scratch::new("reseal");
    let path = scratch.write("changed.jsonl", changed.as_bytes());
    assert!(matches!(
        warroom::journal::verify(&path),
        Ok(warroom::journal::Verified::Bad { .. })
    ));
    let path = scratch.write("resealed.jsonl", &reseal(changed.as_bytes()));
    assert!(matches!(
        warroom::journal::verify(&path),
        Ok(warroom::journal::Verified::Intact { .. })
    ));
}
