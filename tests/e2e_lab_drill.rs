//! A region-loss drill against the real PostgreSQL lab, driven in a pseudo-terminal: the drill's
//! fault really stops the lab's primary, the confirmed `db.promote` really promotes the standby,
//! and the new primary accepts writes. Skipped (failing under `CI`) without PostgreSQL.

mod common;
mod common_pg;

use std::process::Command;
use std::time::Duration;

use common::{BIN, Scratch, Tui};
use warroom::env::Environment;

const T: Duration = Duration::from_secs(30);

#[test]
fn region_loss_drill_against_the_lab_promotes_the_real_standby() {
    if !common_pg::postgres_or_skip() {
        return;
    }
    let lab = common_pg::short_dir("drill");
    let lab_arg = lab.to_str().expect("utf-8").to_string();
    let up = Command::new(BIN)
        .args(["lab", "up", &lab_arg])
        .output()
        .expect("lab up");
    assert!(
        up.status.success(),
        "lab up: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    struct Down(String);
    impl Drop for Down {
        fn drop(&mut self) {
            let _ = Command::new(BIN).args(["lab", "down", &self.0]).output();
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _down = Down(lab_arg.clone());
    let env_file = lab.join("lab.toml");
    let env = Environment::load(&env_file).expect("the lab's environment loads");
    let replica_dsn = env
        .database("dr-replica")
        .and_then(|d| d.postgres.as_ref())
        .map(|p| p.dsn.get_ref().clone())
        .expect("dr-replica has a dsn");

    let state = Scratch::new("lab-drill-state");
    let env_arg = env_file.to_str().expect("utf-8").to_string();
    let mut tui = Tui::spawn_in(
        &["drill", "region-loss", "--env", &env_arg, "--at", "0s"],
        200,
        60,
        state.path(),
        &[],
    );
    tui.wait_text("DRILL", T);
    // The fault really stops the primary: its database shows unreachable.
    tui.wait_for("the primary unreachable", T, |s| {
        s.lines()
            .any(|l| l.contains("primary") && l.contains("unreachable"))
    });
    tui.send("\r"); // declare
    tui.wait_text("Step 1/7", T);
    for _ in 0..2 {
        for _ in 0..4 {
            tui.send(" ");
            tui.send("j");
        }
        tui.send("\r");
    }
    tui.wait_text("Step 3/7", T);
    tui.send("\r");
    let screen = tui.wait_text("Type dr-replica", T);
    // The backend's own description of the exact call, in the dialog.
    assert!(
        screen.contains("backend") && screen.contains("SELECT pg_promote() on dr-replica"),
        "the dialog says what PostgreSQL will be asked:\n{screen}"
    );
    tui.send("dr-replica");
    tui.send("\r");
    // The wait (role primary, available) is verified against the real server.
    tui.wait_text("Step 4/7", T);
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);

    let out = Command::new("psql")
        .args([replica_dsn.as_str(), "-tA", "-c", "CREATE TABLE after_failover (x int); INSERT INTO after_failover VALUES (42); SELECT pg_is_in_recovery(), count(*) FROM after_failover;"])
        .output()
        .expect("psql");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("f|1"),
        "the promoted standby must accept writes: {text}"
    );
}
