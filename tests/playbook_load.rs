use std::path::PathBuf;
use warroom::env::Environment;
use warroom::playbook;

#[test]
fn shipped_playbooks_pass_check() {
    let env = Environment::demo();
    let report = playbook::check_paths(&[PathBuf::from("playbooks")], &env);
    assert!(report.ok(), "{}", report.error_text());
    assert_eq!(report.files.len(), 4);
}

#[test]
fn tmp_print_runbook() {
    let env = Environment::demo();
    let pb = playbook::load_file(std::path::Path::new("playbooks/region-loss.toml"), &env).unwrap();
    println!("{}", playbook::runbook::render(&pb, &env, playbook::runbook::Format::Text));
    println!("{}", playbook::runbook::render(&pb, &env, playbook::runbook::Format::Markdown));
}
