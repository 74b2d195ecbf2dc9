//! The PostgreSQL parts of the environment file: loading, located errors (file:line:col), no
//! password ever accepted or echoed, and the wiring built from it (no server needed).

use std::path::{Path, PathBuf};

use warroom::actions::ActionBackend;
use warroom::actions::postgres::PostgresBackend;
use warroom::backends::{self, WireOptions};
use warroom::clock::SessionClock;
use warroom::env::{Backend, Environment, NameKind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/env")
        .join(name)
}

fn error_of(name: &str) -> String {
    Environment::load(&fixture(name))
        .err()
        .unwrap_or_else(|| panic!("{name} should be rejected"))
        .to_string()
}

/// `file:line:col` of the first line containing `needle` in the fixture, at the column of
/// `at` within that line.
fn located(name: &str, needle: &str, at: &str) -> String {
    let path = fixture(name);
    let src = std::fs::read_to_string(&path).expect("fixture");
    let (i, line) = src
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .expect("needle in fixture");
    let col = line.find(at).expect("at in line") + 1;
    format!("{}:{}:{col}", path.display(), i + 1)
}

#[test]
fn a_postgres_environment_loads() {
    let env = Environment::load(&fixture("pg_valid.toml")).expect("valid");
    assert_eq!(env.backend(), Backend::Postgres);
    assert_eq!(
        env.resource(NameKind::Database, "primary").as_deref(),
        Some("pynomaly@db1.dc1.example:5432")
    );
    assert_eq!(
        env.resource(NameKind::Database, "dr-replica").as_deref(),
        Some("db1.dc2")
    );
    // A relative backup path is relative to the environment file.
    let daily = env.resource(NameKind::Backup, "daily-dump").expect("daily");
    assert_eq!(
        daily,
        fixture("backups/daily/pynomaly_backup_*.dump")
            .display()
            .to_string()
    );
}

#[test]
fn an_inline_password_is_refused_located_and_never_echoed() {
    for (file, needle) in [
        ("pg_inline_password.toml", "password="),
        ("pg_url_password.toml", "postgresql://"),
    ] {
        let err = error_of(file);
        assert!(err.contains("the DSN contains a password"), "{err}");
        assert!(err.contains("password_env"), "{err}");
        assert!(!err.contains("hunter2"), "the password is echoed: {err}");
        assert!(err.starts_with(&located(file, needle, "\"")), "{err}");
    }
}

#[test]
fn simulated_and_real_resources_do_not_mix_and_one_binding_per_database() {
    let err = error_of("pg_mixed.toml");
    assert!(
        err.contains("\"dr-replica\" is simulated (a `sim` binding, or none for a database), but \"primary\" is real (postgres)"),
        "{err}"
    );
    assert!(
        err.starts_with(&located("pg_mixed.toml", "name = \"dr-replica\"", "\"")),
        "{err}"
    );
    let err = error_of("pg_two_bindings.toml");
    assert!(
        err.contains("database \"primary\" has more than one binding"),
        "{err}"
    );
}

#[test]
fn backup_dir_problems_are_each_located() {
    let err = error_of("pg_bad_backup_dir.toml");
    assert!(err.contains("unknown database \"primray\""), "{err}");
    assert!(
        err.contains(&located("pg_bad_backup_dir.toml", "primray", "\"primray")),
        "{err}"
    );
    assert!(err.contains("bad glob \"[0-9\""), "{err}");
    assert!(err.contains("snapshot_name must contain {time}"), "{err}");
}

#[test]
fn wal_evidence_settings_are_each_located() {
    let file = "pg_bad_wal_evidence.toml";
    let err = error_of(file);
    assert!(
        err.contains(&format!(
            "{}: {} is not a PostgreSQL data directory (no global/pg_control)",
            located(file, "data_dir = \".\"", "\".\""),
            fixture(".").display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: {} is not a directory",
            located(file, "pg_valid.toml", "\"pg_valid"),
            fixture("pg_valid.toml").display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: data_dir is empty",
            located(file, "data_dir = \"\"", "\"\"")
        )),
        "{err}"
    );
    // Directories on another machine are fine: they are read when reachable.
    let env = Environment::load(&fixture("pg_valid.toml")).expect("valid");
    let primary = env.database("primary").expect("primary");
    let target = warroom::telemetry::postgres::PgTarget::of(primary, &env)
        .expect("target")
        .expect("postgres");
    assert_eq!(
        target.data_dir.as_deref(),
        Some(Path::new("/srv/postgresql/15/main"))
    );
    assert_eq!(
        target.wal_archive.as_deref(),
        Some(Path::new("/backup/wal"))
    );
}

#[test]
fn wiring_makes_one_source_per_database_backup_and_endpoint() {
    let env = Environment::load(&fixture("pg_valid.toml")).expect("valid");
    let clock = SessionClock::new(std::time::Instant::now(), chrono::Utc::now(), 1.0);
    let wiring = backends::wire(
        &env,
        &WireOptions {
            seed: 1,
            clock,
            endpoint_url: None,
        },
    )
    .unwrap_or_else(|e| panic!("wire: {e}"));
    assert!(wiring.is_live());
    let names: Vec<&str> = wiring.sources.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "postgres primary",
            "postgres dr-replica",
            "backups daily-dump",
            "backups wal-archive",
            "http primary",
            "http dr"
        ]
    );
    assert_eq!(wiring.actions.name(), "postgres");
}

#[test]
fn unsupported_steps_are_known_before_3am() {
    let env = Environment::load(&fixture("pg_valid.toml")).expect("valid");
    let backend = PostgresBackend::new(&env).expect("backend");
    let example = |name: &str| {
        let action = warroom::actions::BuiltinAction::parse(name).expect("built in");
        warroom::actions::Call::example(action, &env).expect("example")
    };
    for a in ["dns.point", "app.scale", "secret.rotate", "notify.webhook"] {
        let why = backend
            .unsupported(&example(a))
            .unwrap_or_else(|| panic!("{a} should be unsupported"));
        assert!(why.contains("`run` step"), "{a}: {why}");
    }
    for a in [
        "db.promote",
        "db.read_only",
        "db.restore",
        "backup.snapshot",
        "backup.verify",
        "http.check",
    ] {
        assert_eq!(backend.unsupported(&example(a)), None, "{a}");
    }
    let call = warroom::actions::ActionCall {
        name: "db.promote".into(),
        args: [("db".to_string(), "dr-replica".to_string())].into(),
    }
    .typed()
    .expect("a valid call");
    assert_eq!(
        backend.describe(&call),
        "SELECT pg_promote() on dr-replica (host=db1.dc2.example port=5432 dbname=pynomaly user=warroom), then wait until it leaves recovery"
    );
}
