//! Shell conventions (issue 13, item 11): completion scripts and the manual page generated from
//! the argument definitions, and `--version` with the git revision.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// Every subcommand, as the help lists them.
const SUBCOMMANDS: [&str; 11] = [
    "status",
    "check",
    "show",
    "drill",
    "lab",
    "report",
    "follow",
    "verify",
    "history",
    "completions",
    "man",
];

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("warroom-shell-test"),
        )
        .output()
        .expect("run warroom");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let (ok, out, err) = run(&["completions", shell]);
        assert!(ok, "{shell}: {err}");
        assert!(out.len() > 1000, "{shell}: {out}");
        for sub in SUBCOMMANDS {
            assert!(out.contains(sub), "{shell} completion lacks {sub}");
        }
        // Options of the subcommands too (`--markdown`; fish writes `-l markdown`).
        assert!(out.contains("markdown") && out.contains("json"), "{shell}");
    }
    // The script is for the shell asked for.
    assert!(run(&["completions", "bash"]).1.contains("complete -F"));
    assert!(
        run(&["completions", "zsh"])
            .1
            .starts_with("#compdef warroom")
    );
    assert!(
        run(&["completions", "fish"])
            .1
            .contains("complete -c warroom")
    );
    // An unknown shell is refused, naming the ones there are.
    let (ok, _, err) = run(&["completions", "cmd.exe"]);
    assert!(!ok);
    assert!(err.contains("bash") && err.contains("fish"), "{err}");
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let (ok, out, err) = run(&["man"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(".ie") || out.contains(".TH warroom"),
        "{out}"
    );
    assert!(out.contains(".TH warroom 1"), "{out}");
    assert!(out.contains(".SH SUBCOMMANDS"), "{out}");
    for sub in SUBCOMMANDS {
        assert!(
            out.contains(&format!("warroom\\-{sub}(1)")),
            "man page lacks {sub}"
        );
    }
    assert!(out.contains(env!("CARGO_PKG_VERSION")));
    // Each subcommand's own page, as the list refers to it.
    let (ok, page, err) = run(&["man", "status"]);
    assert!(ok, "{err}");
    assert!(page.contains(".TH warroom-status 1"), "{page}");
    assert!(page.contains("json"), "{page}");
    let (ok, _, err) = run(&["man", "nonsense"]);
    assert!(!ok);
    assert!(err.contains("nonsense") && err.contains("drill"), "{err}");
}

#[test]
fn version_names_the_crate_version_and_the_git_revision() {
    let (ok, out, err) = run(&["--version"]);
    assert!(ok, "{err}");
    let line = out.trim();
    assert!(
        line.starts_with(&format!("warroom {} (", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    let revision = line
        .rsplit_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .expect("a revision in parentheses");
    // The revision of this checkout when git can tell it (build.rs asks the same way).
    let git = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match git {
        Some(head) => assert_eq!(revision, head, "{line}"),
        None => assert_eq!(revision, "unknown revision", "{line}"),
    }
}
