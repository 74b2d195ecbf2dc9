//! Loading and validating playbooks: the malformed corpus (one problem per file, the message
//! snapshotted), every problem of a file reported at once, `check_paths`, `find`, the printable
//! runbook, and the shipped playbooks.

use std::path::{Path, PathBuf};

use warroom::actions::builtins;
use warroom::env::Environment;
use warroom::playbook::runbook::{self, Format};
use warroom::playbook::{self, FindError, MASK, Playbook, SHIPPED, Scenario};

const CORPUS: &str = "tests/fixtures/playbooks";
const SHIPPED_DIR: &str = "playbooks";

fn demo() -> Environment {
    Environment::demo()
}

fn parse(src: &str) -> Result<Playbook, warroom::diag::Diagnostics> {
    playbook::parse("p.toml", src, &demo())
}

// ----- the malformed corpus ----------------------------------------------------------------

#[test]
fn every_malformed_playbook_is_rejected_with_one_located_diagnostic_and_help() {
    let env = demo();
    let files = playbook::load::toml_files(Path::new(CORPUS)).expect("corpus directory");
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name")
            .to_string();
        let src = std::fs::read_to_string(&file).expect("readable");
        let shown = format!("{CORPUS}/{name}.toml");
        let err = match playbook::parse(&shown, &src, &env) {
            Ok(_) => panic!("{shown} must be rejected"),
            Err(e) => e,
        };
        assert_eq!(err.0.len(), 1, "{shown}: one problem per file, got:\n{err}");
        let d = &err.0[0];
        assert!(
            d.help.is_some(),
            "{shown}: every diagnostic says how to fix it: {d}"
        );
        assert!(
            d.line >= 1 && d.line <= src.lines().count() + 1,
            "{shown}: line {} exists",
            d.line
        );
        insta::assert_snapshot!(name, err.to_string());
    }
}

#[test]
fn every_problem_of_a_file_is_reported_in_file_order() {
    let src = r#"id = "many"
title = "Many problems"
scenario = "outage"
rto = "30 min"
rpo = "5m"

[[steps]]
id = "a"
title = "A"
target = "2m"
guide = "Tell {{nobody}}."

[[steps]]
id = "a"
title = "B"
target = "1x"
action = "db.promote"
with = { db = "primery" }
destructive = true
wait = { db = "primery", role = "primary", available = true, timeout = "10m" }
"#;
    let err = parse(src).expect_err("invalid");
    let located: Vec<(usize, usize, &str)> = err
        .0
        .iter()
        .map(|d| (d.line, d.col, d.message.as_str()))
        .collect();
    assert_eq!(
        located,
        [
            (3, 12, "unknown scenario \"outage\""),
            (
                4,
                7,
                "rto: bad duration \"30 min\": unknown unit (use s, m, h or d)"
            ),
            (11, 15, "unknown variable `{{nobody}}`"),
            (14, 6, "duplicate step id \"a\""),
            (
                16,
                10,
                "target: bad duration \"1x\": unknown unit (use s, m, h or d)"
            ),
            (18, 15, "unknown database \"primery\""),
            (
                20,
                56,
                "two conditions in one wait (`role` and `available`)"
            ),
        ]
    );
}

#[test]
fn unknown_names_in_waits_are_all_reported() {
    let src = r#"id = "w"
title = "W"
scenario = "custom"
rto = "30m"
rpo = "5m"
[[steps]]
id = "scale"
title = "Scale"
target = "5m"
wait = { app = "web", region = "eu", ready_at_least = 3, timeout = "10m" }
"#;
    let err = parse(src).expect_err("invalid");
    let messages: Vec<&str> = err.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["unknown region \"eu\"", "unknown app \"web\""]);
    assert_eq!(
        err.0[1].help.as_deref(),
        Some("known apps in environment \"demo\": api")
    );
}

// ----- variables and secrets ---------------------------------------------------------------

#[test]
fn substitution_is_single_pass_and_references_may_have_spaces() {
    let src = r#"id = "v"
title = "V"
scenario = "custom"
rto = "30m"
rpo = "5m"
[vars]
a = "{{b}}"
b = "bee"
lbrace = "{{"
[[steps]]
id = "s"
title = "S"
target = "1m"
run = ["echo", "{{ a }}", "{{b}}-{{b}}", "{{lbrace}}x}}"]
"#;
    let pb = parse(src).expect("valid");
    assert_eq!(
        pb.argv(0).expect("argv"),
        ["echo", "{{b}}", "bee-bee", "{{x}}"]
    );
}

#[test]
fn secrets_are_masked_everywhere_but_in_the_argv() {
    let src = r##"id = "s"
title = "S"
scenario = "custom"
rto = "30m"
rpo = "5m"
[vars]
token = { value = "hunter2", secret = true }
channel = "#ops"
[[steps]]
id = "page"
title = "Page"
target = "1m"
guide = "Uses the token {{token}} on {{channel}}."
checklist = ["token {{token}} is current"]
run = ["./page.sh", "--token={{token}}", "{{channel}}"]
[[steps]]
id = "tell"
title = "Tell"
target = "1m"
action = "notify.webhook"
with = { message = "auth {{token}} in {{channel}}" }
"##;
    let pb = parse(src).expect("valid");
    assert_eq!(
        pb.argv(0).expect("argv"),
        ["./page.sh", "--token=hunter2", "#ops"]
    );
    let masked = format!("{:?}", pb.exec_masked(0));
    assert!(
        !masked.contains("hunter2") && masked.contains(MASK),
        "{masked}"
    );
    assert!(!format!("{:?}", pb.exec_masked(1)).contains("hunter2"));
    for format in [Format::Text, Format::Markdown] {
        let text = runbook::render(&pb, &demo(), format);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains(&format!("--token={MASK}")), "{text}");
        assert!(
            text.contains(&format!("Uses the token {MASK} on #ops.")),
            "{text}"
        );
        assert!(text.contains(&format!("auth {MASK} in #ops")), "{text}");
    }
}

// ----- the shipped playbooks ---------------------------------------------------------------

#[test]
fn shipped_playbooks_pass_check_against_the_demo_environment() {
    let report = playbook::check_paths(&[PathBuf::from(SHIPPED_DIR)], &demo());
    assert!(report.ok(), "{}", report.error_text());
    let ids: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| f.result.as_ref().ok().map(|p| p.id.clone()))
        .collect();
    assert_eq!(ids, ["az-loss", "breach", "corruption", "region-loss"]);
    assert_eq!(report.error_count(), 0);
    assert_eq!(report.error_text(), "");
}

#[test]
fn shipped_playbooks_keep_their_plan_and_fit_their_rto() {
    let env = demo();
    let expect = [
        ("az-loss", Scenario::AzLoss, "5m"),
        ("region-loss", Scenario::RegionLoss, "30m"),
        ("corruption", Scenario::Corruption, "1h"),
        ("breach", Scenario::Breach, "4h"),
    ];
    for (id, scenario, rto) in expect {
        let pb = playbook::load_file(&Path::new(SHIPPED_DIR).join(format!("{id}.toml")), &env)
            .expect("valid");
        assert_eq!(pb.id, id);
        assert_eq!(pb.scenario, scenario);
        assert_eq!(pb.rto.to_string(), rto, "{id}");
        assert!(
            pb.total_target() <= pb.rto,
            "{id}: targets {} exceed the RTO {}",
            pb.total_target(),
            pb.rto
        );
        for step in &pb.steps {
            assert!(
                !step.guide.is_empty(),
                "{id}/{}: every step has a guide",
                step.id
            );
            if let Some(b) = step.builtin() {
                assert!(builtins().any(|x| x.name == b.name));
            }
            assert!(
                step.builtin().is_some() || step.executor.is_none(),
                "{id}/{}: shipped playbooks only use built-in actions (drills need no scripts)",
                step.id
            );
        }
    }
    let region =
        playbook::load_file(&Path::new(SHIPPED_DIR).join("region-loss.toml"), &env).expect("valid");
    let targets: Vec<String> = region.steps.iter().map(|s| s.target.to_string()).collect();
    assert_eq!(targets, ["2m", "5m", "5m", "7m", "3m", "5m", "3m"]);
    let promote = &region.steps[2];
    assert!(promote.destructive && promote.capture_rpo);
    assert_eq!(
        promote.confirm_text(&region.vars).as_deref(),
        Some("dr-replica")
    );
}

#[test]
fn the_embedded_playbooks_are_the_files_on_disk() {
    assert_eq!(SHIPPED.len(), 4);
    for (id, src) in SHIPPED {
        let on_disk = std::fs::read_to_string(Path::new(SHIPPED_DIR).join(format!("{id}.toml")))
            .expect("shipped file");
        assert_eq!(*src, on_disk, "{id}");
    }
}

// ----- check_paths and find ----------------------------------------------------------------

#[test]
fn check_paths_reports_every_file_and_bad_paths() {
    let paths = [
        PathBuf::from(SHIPPED_DIR).join("az-loss.toml"),
        PathBuf::from(CORPUS),
        PathBuf::from("no/such/dir"),
        PathBuf::from("src"),
    ];
    let report = playbook::check_paths(&paths, &demo());
    assert!(!report.ok());
    let corpus = playbook::load::toml_files(Path::new(CORPUS)).expect("corpus");
    assert_eq!(report.files.len(), 1 + corpus.len());
    assert_eq!(report.path_errors.len(), 2);
    assert_eq!(report.error_count(), corpus.len() + 2);
    assert_eq!(report.ok_lines().len(), 1);
    assert!(
        report.ok_lines()[0].starts_with("ok  playbooks/az-loss.toml  az-loss (5 steps"),
        "{:?}",
        report.ok_lines()
    );
    // Directories expand to their files in name order.
    let listed: Vec<&PathBuf> = report.files[1..].iter().map(|f| &f.path).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    let text = report.error_text();
    assert!(
        text.contains("no/such/dir:1:1: no such file or directory"),
        "{text}"
    );
    assert!(
        text.contains("src:1:1: no playbooks (*.toml) in this directory"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("{} problems found\n", corpus.len() + 2)),
        "{text}"
    );
}

#[test]
fn find_by_id_by_path_and_among_the_shipped() {
    let env = demo();
    let pb = playbook::find("region-loss", Path::new(SHIPPED_DIR), &env).expect("by id");
    assert_eq!(pb.id, "region-loss");
    let pb = playbook::find("playbooks/breach.toml", Path::new("elsewhere"), &env).expect("path");
    assert_eq!(pb.id, "breach");
    // A directory without it falls back to the playbooks embedded in the binary.
    let pb = playbook::find("corruption", Path::new("src"), &env).expect("shipped");
    assert_eq!(pb.source, "<shipped>/corruption.toml");

    match playbook::find("region-los", Path::new(CORPUS), &env) {
        Err(e @ FindError::NotFound { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("known: az-loss, breach, corruption, region-loss"),
                "{text}"
            );
            assert!(text.contains("do not load: run `warroom check"), "{text}");
        }
        other => panic!("not found expected, got {other:?}"),
    }
    match playbook::find(
        &format!("{CORPUS}/two-executors.toml"),
        Path::new("."),
        &env,
    ) {
        Err(FindError::Invalid(d)) => assert!(d.to_string().contains("both `run` and `action`")),
        other => panic!("invalid expected, got {other:?}"),
    }
}

#[test]
fn load_file_reports_an_unreadable_path() {
    let err = playbook::load_file(Path::new("playbooks/nope.toml"), &demo()).expect_err("missing");
    assert!(
        err.to_string()
            .starts_with("playbooks/nope.toml:1:1: cannot read playbook:"),
        "{err}"
    );
}

#[test]
fn content_hash_is_stable_and_changes_with_the_content() {
    let a = playbook::content_hash("id = \"a\"\n");
    assert_eq!(a, playbook::content_hash("id = \"a\"\n"));
    assert_ne!(a, playbook::content_hash("id = \"b\"\n"));
    assert_eq!(a.len(), 16);
    let pb = playbook::find("az-loss", Path::new(SHIPPED_DIR), &demo()).expect("valid");
    let src = std::fs::read_to_string("playbooks/az-loss.toml").expect("file");
    assert_eq!(pb.hash, playbook::content_hash(&src));
}

// ----- the printable runbook ---------------------------------------------------------------

fn region_loss() -> Playbook {
    playbook::load_file(Path::new("playbooks/region-loss.toml"), &demo()).expect("valid")
}

#[test]
fn runbook_text_for_region_loss() {
    insta::assert_snapshot!(runbook::render(&region_loss(), &demo(), Format::Text));
}

#[test]
fn runbook_markdown_for_region_loss() {
    insta::assert_snapshot!(runbook::render(&region_loss(), &demo(), Format::Markdown));
}

#[test]
fn show_finds_and_renders() {
    let text =
        playbook::show("az-loss", Path::new(SHIPPED_DIR), &demo(), Format::Text).expect("shown");
    assert!(
        text.starts_with("RUNBOOK  Availability zone failure  [az-loss]"),
        "{text}"
    );
    let md = playbook::show("breach", Path::new("src"), &demo(), Format::Markdown).expect("md");
    assert!(
        md.starts_with("# Runbook: Security breach (`breach`)"),
        "{md}"
    );
    assert!(playbook::show("nope", Path::new(SHIPPED_DIR), &demo(), Format::Text).is_err());
}

#[test]
fn runbook_shows_commands_with_resolved_names_and_running_totals() {
    let text = runbook::render(&region_loss(), &demo(), Format::Text);
    assert!(text.contains("db.promote db=dr-replica (pynomaly-dr-replica)"));
    assert!(text.contains("DESTRUCTIVE: confirm by typing \"dr-replica\""));
    assert!(text.contains("T+12m of RTO 30m"));
    assert!(text.contains("  [ ] The DR region is HEALTHY"));
    assert!(!text.contains("OVER RTO"));
    let over = region_loss();
    let mut over = over;
    over.rto = warroom::duration::Dur::from_mins(20);
    let text = runbook::render(&over, &demo(), Format::Text);
    assert!(text.contains("T+22m of RTO 20m  OVER RTO"), "{text}");
}

#[test]
fn the_docs_cover_every_builtin_and_every_field() {
    let docs = std::fs::read_to_string("docs/playbooks.md").expect("docs/playbooks.md");
    for b in builtins() {
        assert!(
            docs.contains(&format!("| `{}` |", b.name)),
            "{} undocumented",
            b.name
        );
        for a in b.args {
            assert!(
                docs.contains(&format!("`{}`", a.name)),
                "{}.{}",
                b.name,
                a.name
            );
        }
    }
    let fields = [
        "id",
        "title",
        "scenario",
        "summary",
        "rto",
        "rpo",
        "vars",
        "steps",
        "target",
        "guide",
        "checklist",
        "run",
        "action",
        "with",
        "wait",
        "timeout",
        "on_failure",
        "destructive",
        "capture_rpo",
    ];
    for f in fields {
        assert!(
            docs.contains(&format!("| `{f}` |")),
            "field {f} undocumented"
        );
    }
    for w in [
        "role",
        "lag_under",
        "available",
        "intact",
        "healthy",
        "serving",
        "fresher_than",
        "ready_at_least",
        "points_to",
    ] {
        assert!(
            docs.contains(&format!("{w} = ")),
            "wait predicate {w} undocumented"
        );
    }
}

// ----- env on run steps --------------------------------------------------------------------

#[test]
fn run_env_is_validated_with_locations() {
    let src = r#"id = "e"
title = "E"
scenario = "custom"
rto = "30m"
rpo = "5m"

[vars]
token = { value = "s3cr3t", secret = true }

[[steps]]
id = "a"
title = "A"
target = "1m"
run = ["./notify.sh"]
env = { "1BAD" = "x", "WARROOM_STEP" = "x", GOOD = "{{nobody}}" }

[[steps]]
id = "b"
title = "B"
target = "1m"
action = "db.promote"
with = { db = "dr-replica" }
env = { TOKEN = "{{token}}" }
"#;
    let err = parse(src).expect_err("invalid");
    let located: Vec<(usize, usize, &str)> = err
        .0
        .iter()
        .map(|d| (d.line, d.col, d.message.as_str()))
        .collect();
    assert_eq!(
        located,
        [
            (15, 9, "\"1BAD\" is not an environment variable name"),
            (15, 53, "unknown variable `{{nobody}}`"),
            (15, 23, "WARROOM_STEP is set by warroom itself"),
            (23, 7, "`env` without `run`"),
        ]
    );
}

#[test]
fn run_env_reaches_the_exec_and_is_masked_for_display() {
    let src = r#"id = "e"
title = "E"
scenario = "custom"
rto = "30m"
rpo = "5m"

[vars]
token = { value = "s3cr3t", secret = true }
region = "eu"

[[steps]]
id = "a"
title = "A"
target = "1m"
run = ["./notify.sh", "{{region}}"]
env = { TOKEN = "Bearer {{token}}", REGION = "{{region}}" }

[[steps]]
id = "b"
title = "B"
target = "1m"
run = ["./notify.sh", "--token={{token}}"]
"#;
    let p = parse(src).expect("valid");
    match p.exec(0) {
        Some(warroom::actions::Exec::Run { argv, env, .. }) => {
            assert_eq!(argv, ["./notify.sh", "eu"]);
            assert_eq!(
                env,
                [
                    ("REGION".to_string(), "eu".to_string()),
                    ("TOKEN".to_string(), "Bearer s3cr3t".to_string())
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    let shown = p.steps[0].command_line(&p.vars, warroom::playbook::Reveal::Masked, None);
    assert_eq!(
        shown,
        format!("run REGION=eu TOKEN='Bearer {MASK}' ./notify.sh eu")
    );
    assert!(!shown.contains("s3cr3t"));
    // Only a secret in the arguments is flagged (visible in `ps`).
    assert!(p.steps[0].secrets_in_argv(&p.vars).is_empty());
    assert_eq!(p.steps[1].secrets_in_argv(&p.vars), ["token"]);
}
