//! Loading and validating playbook files.
//!
//! Serde reads the file into [`super::format`]; a syntax error or a schema error (unknown field,
//! wrong type, missing field) stops there with one diagnostic. Everything else is checked here,
//! and every problem of the file is reported, each with `file:line:col` and how to fix it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::format::{PlaybookFile, RecallFile, ReminderFile, StepFile, WaitFile};
use super::model::{
    ArgValue, Condition, Executor, OnFailure, Playbook, Recall, Reminder, Reveal, Scenario, Step,
    Template, Var, Vars, Wait, is_var_name,
};
use crate::actions::{ArgKind, builtin};
use crate::diag::{Diagnostic, Diagnostics};
use crate::duration::Dur;
use crate::env::{Environment, NameKind};
use crate::telemetry::DbRole;

/// The shortest reminder period: reminders are for people.
const MIN_REMINDER_SECS: u64 = 60;
/// Most approvals a step may need (`approvals = N`).
pub const MAX_APPROVALS: u32 = 3;

/// Where the format is documented, for help texts.
const FORMAT_DOC: &str = "docs/playbooks.md";

/// FNV-1a 64-bit hash of the source text, as 16 lowercase hex digits. The journal header records
/// it so a resumed or reported incident can tell whether its playbook changed since.
pub fn content_hash(src: &str) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = src
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    format!("{hash:016x}")
}

/// Reads and validates a playbook file against `env`.
pub fn load_file(path: &Path, env: &Environment) -> Result<Playbook, Diagnostics> {
    let shown = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics(vec![Diagnostic {
            path: shown.clone(),
            line: 1,
            col: 1,
            message: format!("cannot read playbook: {e}"),
            help: Some("check the path; `warroom check DIR` lists the playbooks it finds".into()),
        }])
    })?;
    parse(&shown, &src, env)
}

/// Validates playbook source text against `env`; `path` is only used in messages.
pub fn parse(path: &str, src: &str, env: &Environment) -> Result<Playbook, Diagnostics> {
    let file: PlaybookFile = toml::from_str(src).map_err(|e| {
        let d = Diagnostic::from_toml(path, src, &e);
        let help = schema_help(&d.message);
        Diagnostics(vec![d.with_help(help)])
    })?;
    let mut checker = Checker {
        path,
        src,
        env,
        diags: Vec::new(),
    };
    let playbook = checker.playbook(file, path, src);
    if checker.diags.is_empty() {
        Ok(playbook)
    } else {
        Err(Diagnostics(checker.diags))
    }
}

/// What to do about a serde (schema) error, from its message.
fn schema_help(message: &str) -> String {
    if message.contains("unknown field") {
        format!(
            "remove the field or correct its spelling (the message lists the fields allowed \
             here); the format reference is {FORMAT_DOC}"
        )
    } else if let Some(rest) = message.strip_prefix("missing field ") {
        format!(
            "add {} to this table; the format reference is {FORMAT_DOC}",
            rest.trim()
        )
    } else if message.contains("invalid type") {
        format!("give the value the type shown; the format reference is {FORMAT_DOC}")
    } else {
        format!("fix the TOML syntax here; the format reference is {FORMAT_DOC}")
    }
}

/// Collects every problem of one file.
struct Checker<'a> {
    path: &'a str,
    src: &'a str,
    env: &'a Environment,
    diags: Vec<Diagnostic>,
}

/// Step and playbook ids: a lowercase letter or digit, then lowercase letters, digits, `-`, `_`.
pub fn is_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn kind_plural(kind: NameKind) -> &'static str {
    match kind {
        NameKind::Region => "regions",
        NameKind::Database => "databases",
        NameKind::Backup => "backups",
        NameKind::Dns => "DNS records",
        NameKind::App => "apps",
    }
}

fn arg_kind_label(kind: ArgKind) -> String {
    match kind {
        ArgKind::Name(k) => format!("a {} name", k.label()),
        ArgKind::Count => "a whole number".into(),
        ArgKind::Text => "text".into(),
        ArgKind::RestorePoint => {
            "a restore point (before-corruption, latest-verified-backup, newest-good-backup or an RFC 3339 time)".into()
        }
        ArgKind::Flag => "true or false".into(),
    }
}

/// `integer` -> `an integer`.
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

fn builtin_list() -> String {
    crate::actions::action_names()
}

const WAIT_FORMS: &str = "one of: { db = \"dr-replica\", role = \"primary\" }, \
    { db = \"dr-replica\", lag_under = \"60s\" }, { db = \"primary\", available = true }, \
    { db = \"primary\", intact = true }, \
    { region = \"dr\", healthy = true }, { region = \"primary\", serving = true }, \
    { backup = \"snapshots\", fresher_than = \"20m\" }, \
    { app = \"api\", region = \"dr\", ready_at_least = 3 }, { dns = \"api\", points_to = \"dr\" }; \
    each with timeout = \"10m\"";

impl Checker<'_> {
    fn push(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.diags
            .push(Diagnostic::at(self.path, self.src, span, message).with_help(help));
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        crate::diag::line_col(self.src, span.start).0
    }

    /// The absolute span of `needle` inside the raw source of `span` (a string literal), so a
    /// problem inside a long string points at the exact place; the whole literal otherwise.
    fn inside(&self, span: &Range<usize>, needle: &str) -> Range<usize> {
        self.src
            .get(span.clone())
            .and_then(|raw| raw.find(needle))
            .map_or(span.clone(), |at| {
                span.start + at..span.start + at + needle.len()
            })
    }

    fn duration(&mut self, value: &Spanned<String>, what: &str) -> Option<Dur> {
        match Dur::parse(value.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.push(
                    value.span(),
                    format!("{what}: bad duration {}: {}", crate::text::echo(&e.input), e.why),
                    "write a number followed by a unit, e.g. \"90s\", \"5m\", \"1h30m\", \"24h\", \"2d\"",
                );
                None
            }
        }
    }

    /// Parses `{{var}}` references in a string and checks that each is declared.
    fn template(&mut self, value: &Spanned<String>, vars: &Vars) -> Template {
        let text = value.get_ref();
        let span = value.span();
        let template = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                let needle: String = text
                    .get(e.offset..)
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| *c != '\n')
                    .take(24)
                    .collect();
                let at = self.inside(&span, &needle);
                self.push(at, e.message, e.help);
                return Template::literal(text.clone());
            }
        };
        let mut reported = BTreeSet::new();
        for name in template.var_names() {
            if vars.get(name).is_some() || !reported.insert(name.to_string()) {
                continue;
            }
            let at = self.reference_span(&span, name);
            let known: Vec<&str> = vars.0.keys().map(String::as_str).collect();
            let name = crate::env::short_name(name);
            let help = if known.is_empty() {
                format!(
                    "declare it: add `[vars]` with {name} = \"...\" (this playbook has no variables)"
                )
            } else {
                format!(
                    "declare it under [vars] ({name} = \"...\") or use a declared one: {}",
                    crate::env::known_names(&known)
                )
            };
            self.push(at, format!("unknown variable `{{{{{name}}}}}`"), help);
        }
        template
    }

    /// The raw-source span of the first `{{ name }}` reference inside a string literal.
    fn reference_span(&self, span: &Range<usize>, name: &str) -> Range<usize> {
        let Some(raw) = self.src.get(span.clone()) else {
            return span.clone();
        };
        for (at, _) in raw.match_indices("{{") {
            let after = &raw[at + 2..];
            let trimmed = after.trim_start();
            if trimmed.starts_with(name) {
                let end = after.find("}}").map_or(raw.len(), |c| at + 2 + c + 2);
                return span.start + at..span.start + end;
            }
        }
        span.clone()
    }

    fn name(&mut self, kind: NameKind, value: &str, span: Range<usize>) {
        if !self.env.has(kind, value) {
            let known = self.env.names(kind);
            let help = if known.is_empty() {
                format!(
                    "environment {} defines no {}",
                    crate::text::echo(&self.env.name),
                    kind_plural(kind)
                )
            } else {
                format!(
                    "known {} in environment {}: {}",
                    kind_plural(kind),
                    crate::text::echo(&self.env.name),
                    crate::env::known_names(&known)
                )
            };
            self.push(
                span,
                format!(
                    "unknown {} {value}",
                    kind.label(),
                    value = crate::text::echo(value)
                ),
                help,
            );
        }
    }

    fn playbook(&mut self, file: PlaybookFile, path: &str, src: &str) -> Playbook {
        if !is_id(file.id.get_ref()) {
            self.push(
                file.id.span(),
                format!("bad playbook id {}", crate::text::echo(file.id.get_ref())),
                "use lowercase letters, digits and `-` (e.g. \"region-loss\"); `warroom show ID` \
                 finds the playbook by it",
            );
        }
        let scenario = Scenario::parse(file.scenario.get_ref()).unwrap_or_else(|| {
            let all: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
            self.push(
                file.scenario.span(),
                format!(
                    "unknown scenario {}",
                    crate::text::echo(file.scenario.get_ref())
                ),
                format!("use one of: {}", all.join(", ")),
            );
            Scenario::Custom
        });
        let mut objective = |field: &Option<Spanned<String>>, name: &str, example: &str| {
            let Some(value) = field else {
                self.push(
                    0..0,
                    format!("missing `{name}`"),
                    format!(
                        "every playbook states its objectives: add {name} = \"{example}\" at the top level, next to `scenario`"
                    ),
                );
                return Dur::ZERO;
            };
            self.duration(value, name).unwrap_or(Dur::ZERO)
        };
        let rto = objective(&file.rto, "rto", "30m");
        let rpo = objective(&file.rpo, "rpo", "5m");

        let mut vars = Vars::default();
        for (name, def) in &file.vars {
            if !is_var_name(name.get_ref()) {
                self.push(
                    name.span(),
                    format!("bad variable name {}", crate::text::echo(name.get_ref())),
                    "start with a letter or `_`, then letters, digits, `_` or `-`",
                );
            }
            vars.0.insert(
                name.get_ref().clone(),
                Var {
                    value: def.get_ref().value.clone(),
                    secret: def.get_ref().secret,
                },
            );
        }

        let reminders = self.reminders(&file.reminders);

        if file.steps.is_empty() {
            self.push(
                src.len()..src.len(),
                "the playbook has no steps",
                "add at least one [[steps]] table with id, title and target",
            );
        }
        let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
        let mut steps = Vec::with_capacity(file.steps.len());
        for step in &file.steps {
            let id = step.id.get_ref();
            if let Some(first) = seen.get(id) {
                let line = self.line_of(first);
                self.push(
                    step.id.span(),
                    format!("duplicate step id {id}", id = crate::text::echo(id)),
                    format!("step ids must be unique; {id} is first used on line {line}: rename one of them", id = crate::text::echo(id)),
                );
            } else {
                seen.insert(id.clone(), step.id.span());
            }
            let mut built = self.step(step, &vars);
            built.recall = step.recall.as_ref().and_then(|r| self.recall(r, &steps));
            steps.push(built);
        }
        let restoring: Vec<&Spanned<bool>> = file
            .steps
            .iter()
            .filter_map(|s| s.restores_service.as_ref())
            .filter(|r| *r.get_ref())
            .collect();
        if let [first, rest @ ..] = restoring.as_slice() {
            let line = self.line_of(&first.span());
            for extra in rest {
                self.push(
                    extra.span(),
                    "a second step with `restores_service = true`",
                    format!(
                        "the outage ends once, at one step: keep the one on line {line} (or move \
                         it here) and remove the other"
                    ),
                );
            }
        }

        Playbook {
            id: file.id.into_inner(),
            title: file.title.into_inner(),
            scenario,
            summary: file
                .summary
                .map(Spanned::into_inner)
                .unwrap_or_default()
                .trim()
                .to_string(),
            rto,
            rpo,
            vars,
            reminders,
            steps,
            source: path.to_string(),
            hash: content_hash(src),
        }
    }

    /// The comms cadence: a duration of at least a minute, a text that is not empty and not
    /// used twice (the journal names a reminder by its text).
    fn reminders(&mut self, file: &[ReminderFile]) -> Vec<Reminder> {
        let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
        let mut out = Vec::with_capacity(file.len());
        for r in file {
            let every = self.duration(&r.every, "reminder every");
            if let Some(every) = every
                && every.secs() < MIN_REMINDER_SECS
            {
                self.push(
                    r.every.span(),
                    format!(
                        "reminder every {} is under a minute",
                        crate::text::echo(r.every.get_ref())
                    ),
                    "a reminder is for people: give it at least \"1m\" (e.g. every = \"15m\")",
                );
            }
            let text = r.text.get_ref().trim();
            if text.is_empty() {
                self.push(
                    r.text.span(),
                    "empty reminder text",
                    "say what to do when it is due (e.g. text = \"Post a status update\")",
                );
            } else if let Some(first) = seen.get(text) {
                let line = self.line_of(first);
                let shown = crate::text::echo(text);
                self.push(
                    r.text.span(),
                    format!("duplicate reminder text {shown}"),
                    format!(
                        "the journal names a reminder by its text; {shown} is first used on \
                         line {line}: merge them or reword one"
                    ),
                );
            } else {
                seen.insert(text.to_string(), r.text.span());
            }
            if let Some(every) = every {
                out.push(Reminder {
                    every,
                    text: text.to_string(),
                });
            }
        }
        out
    }

    fn step(&mut self, step: &StepFile, vars: &Vars) -> Step {
        let id = step.id.get_ref();
        if !is_id(id) {
            self.push(
                step.id.span(),
                format!("bad step id {id}", id = crate::text::echo(id)),
                "use lowercase letters, digits and `-` (e.g. \"promote-replica\"); the operator \
                 may have to type it to confirm",
            );
        }
        if step.title.get_ref().trim().is_empty() {
            self.push(
                step.title.span(),
                "empty step title",
                "say what the step does in a few words",
            );
        }
        let target = self.duration(&step.target, "target").unwrap_or(Dur::ZERO);
        let guide = step
            .guide
            .as_ref()
            .map_or_else(|| Template::literal(""), |g| self.template(g, vars));
        let checklist = step
            .checklist
            .iter()
            .map(|item| self.template(item, vars))
            .collect();

        let executor = self.executor(step, vars);
        let has_executor = executor.is_some() || step.run.is_some() || step.action.is_some();
        let wait = step.wait.as_ref().and_then(|w| self.wait(w));

        let timeout = step.timeout.as_ref().and_then(|t| {
            if !has_executor {
                self.push(
                    t.span(),
                    "`timeout` on a step that runs nothing",
                    "`timeout` limits the step's `run` or `action`; for a `wait`, put the timeout \
                     inside it: wait = { ..., timeout = \"10m\" }",
                );
            }
            self.duration(t, "timeout")
        });
        let destructive = step.destructive.as_ref().is_some_and(|d| {
            if *d.get_ref() && !has_executor {
                self.push(
                    d.span(),
                    "`destructive` on a step that runs nothing",
                    "only a step with `run` or `action` can be destructive; remove the field",
                );
            }
            *d.get_ref()
        });
        let capture_rpo = step.capture_rpo.as_ref().is_some_and(|c| {
            if *c.get_ref() {
                let measurable = step.action.is_some()
                    && step.with.as_ref().is_some_and(|w| {
                        w.get_ref()
                            .keys()
                            .any(|k| k.get_ref() == "db" || k.get_ref() == "backup")
                    });
                if !measurable {
                    self.push(
                        c.span(),
                        "`capture_rpo` on a step with nothing to measure",
                        "the data-loss window is measured from the action's `db` (replica lag) or \
                         `backup` (age of the newest good backup): use it on an action with one \
                         of them, e.g. db.promote or db.restore",
                    );
                }
            }
            *c.get_ref()
        });
        let on_failure = match step.on_failure.as_ref() {
            None => OnFailure::Stop,
            Some(v) => match v.get_ref().as_str() {
                "stop" => OnFailure::Stop,
                "continue" => OnFailure::Continue,
                other => {
                    self.push(
                        v.span(),
                        format!(
                            "unknown on_failure {other}",
                            other = crate::text::echo(other)
                        ),
                        "use \"stop\" (the default: the incident waits on this step) or \
                         \"continue\" (record the failure and go on)",
                    );
                    OnFailure::Stop
                }
            },
        };

        let restores_service = step.restores_service.as_ref().is_some_and(|r| *r.get_ref());
        let approvals = step.approvals.as_ref().map_or(0, |a| {
            let n = *a.get_ref();
            if n > 0 && !has_executor {
                self.push(
                    a.span(),
                    "`approvals` on a step that runs nothing",
                    "approvals hold a `run` or `action` step until others approve it; remove the \
                     field",
                );
            }
            if n > MAX_APPROVALS {
                self.push(
                    a.span(),
                    format!("`approvals = {n}`: at most {MAX_APPROVALS}"),
                    "one or two approvers are the two-person rule; more stall the incident",
                );
            }
            n.min(MAX_APPROVALS)
        });
        Step {
            id: id.clone(),
            title: step.title.get_ref().clone(),
            target,
            guide,
            checklist,
            executor,
            wait,
            timeout,
            on_failure,
            destructive,
            capture_rpo,
            restores_service,
            approvals,
            recall: None,
        }
    }

    /// A step's `recall`: an earlier step (`earlier`: the steps before it) and an optional
    /// filter.
    fn recall(&mut self, recall: &Spanned<RecallFile>, earlier: &[Step]) -> Option<Recall> {
        let file = recall.get_ref();
        let id = file.step.get_ref();
        let Some(step) = earlier.iter().position(|s| s.id == *id) else {
            let known: Vec<&str> = earlier.iter().map(|s| s.id.as_str()).collect();
            self.push(
                file.step.span(),
                format!(
                    "recall names {id}, which is not an earlier step",
                    id = crate::text::echo(id)
                ),
                if known.is_empty() {
                    "the first step has nothing to recall; remove `recall`".to_string()
                } else {
                    format!(
                        "recall one of the steps before this one: {}",
                        known.join(", ")
                    )
                },
            );
            return None;
        };
        let containing = file.lines.as_ref().and_then(|l| {
            let text = l.get_ref().trim();
            if text.is_empty() {
                self.push(
                    l.span(),
                    "empty `lines` in recall",
                    "give the text the recalled lines contain (e.g. \"manifest\"), or remove \
                     `lines` to recall the step's last lines",
                );
                return None;
            }
            Some(text.to_string())
        });
        Some(Recall { step, containing })
    }

    /// A `run` step's `env`: valid names, values checked like the arguments.
    fn run_env(&mut self, step: &StepFile, vars: &Vars) -> Vec<(String, Template)> {
        let Some(env) = &step.env else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, value) in env.get_ref() {
            let key = name.get_ref();
            if !is_env_name(key) {
                self.push(
                    name.span(),
                    format!(
                        "{} is not an environment variable name",
                        crate::text::echo(key)
                    ),
                    "a name is a letter or `_`, then letters, digits or `_` (TOKEN, PG_PASSWORD)",
                );
                continue;
            }
            if crate::actions::run::RESERVED_ENV.contains(&key.as_str()) {
                self.push(
                    name.span(),
                    format!("{key} is set by warroom itself"),
                    "warroom marks each step's processes with it to end them with the step; \
                     choose another name",
                );
                continue;
            }
            out.push((key.clone(), self.template(value, vars)));
        }
        out
    }

    fn executor(&mut self, step: &StepFile, vars: &Vars) -> Option<Executor> {
        if let (Some(_), Some(action)) = (&step.run, &step.action) {
            self.push(
                action.span(),
                "a step with both `run` and `action`",
                "a step has at most one executor: keep one, and move the other into a step of \
                 its own",
            );
            return None;
        }
        if let (Some(with), None) = (&step.with, &step.action) {
            self.push(
                with.span(),
                "`with` without an `action`",
                format!(
                    "`with` holds the arguments of a built-in action: add action = \"...\" (one of: {})",
                    builtin_list()
                ),
            );
        }
        if let Some(run) = &step.run {
            let argv = run.get_ref();
            if argv.is_empty() {
                self.push(
                    run.span(),
                    "empty `run`",
                    "`run` is an argv: the program, then its arguments, e.g. run = [\"./scripts/notify.sh\", \"{{record}}\"]",
                );
                return None;
            }
            if argv[0].get_ref().trim().is_empty() {
                self.push(
                    argv[0].span(),
                    "empty program in `run`",
                    "the first element of `run` is the program to start",
                );
            }
            let argv = argv.iter().map(|a| self.template(a, vars)).collect();
            let env = self.run_env(step, vars);
            return Some(Executor::Run { argv, env });
        }
        if let Some(env) = &step.env {
            self.push(
                env.span(),
                "`env` without `run`",
                "`env` sets environment variables of a `run` step's program; a built-in action \
                 takes its arguments in `with`",
            );
        }
        let action = step.action.as_ref()?;
        let Some(builtin) = builtin(action.get_ref()) else {
            self.push(
                action.span(),
                format!("unknown action {}", crate::text::echo(action.get_ref())),
                format!("built-in actions: {}", builtin_list()),
            );
            return None;
        };
        let mut with = BTreeMap::new();
        let given: Option<&BTreeMap<Spanned<String>, Spanned<toml::Value>>> =
            step.with.as_ref().map(Spanned::get_ref);
        let arg_list = builtin
            .args
            .iter()
            .map(|a| format!("{} ({})", a.name, arg_kind_label(a.kind)))
            .collect::<Vec<_>>()
            .join(", ");
        for (key, value) in given.into_iter().flatten() {
            let Some(spec) = builtin.args.iter().find(|a| a.name == key.get_ref()) else {
                self.push(
                    key.span(),
                    format!("{} has no argument `{}`", builtin.name, key.get_ref()),
                    format!("its arguments: {arg_list}"),
                );
                continue;
            };
            let span = value.span();
            let parsed = match (spec.kind, value.get_ref()) {
                (ArgKind::Name(kind), toml::Value::String(s)) => {
                    let t = self.template(&Spanned::new(span.clone(), s.clone()), vars);
                    let rendered = t.render(vars, Reveal::Secrets);
                    self.name(kind, &rendered, span.clone());
                    Some(ArgValue::Text(t))
                }
                (ArgKind::Text, toml::Value::String(s)) => Some(ArgValue::Text(
                    self.template(&Spanned::new(span.clone(), s.clone()), vars),
                )),
                (ArgKind::RestorePoint, toml::Value::String(s)) => {
                    let t = self.template(&Spanned::new(span.clone(), s.clone()), vars);
                    let rendered = t.render(vars, Reveal::Secrets);
                    match rendered.parse::<crate::recovery::RestoreTo>() {
                        Ok(_) => Some(ArgValue::Text(t)),
                        Err(e) => {
                            self.push(
                                span.clone(),
                                format!("`{}` of {}: {e}", spec.name, builtin.name),
                                format!("e.g. {} = \"before-corruption\" (the default)", spec.name),
                            );
                            None
                        }
                    }
                }
                (ArgKind::Count, toml::Value::Integer(n)) => match u64::try_from(*n) {
                    Ok(n) => Some(ArgValue::Count(n)),
                    Err(_) => {
                        self.push(
                            span.clone(),
                            format!("`{}` must not be negative (got {n})", spec.name),
                            format!("write a whole number from 0, e.g. {} = 3", spec.name),
                        );
                        None
                    }
                },
                (ArgKind::Flag, toml::Value::Boolean(b)) => Some(ArgValue::Flag(*b)),
                (kind, other) => {
                    let example = match kind {
                        ArgKind::Name(k) => format!(
                            "{} = \"{}\"",
                            spec.name,
                            self.env.names(k).first().map_or("name", String::as_str)
                        ),
                        ArgKind::Count => format!("{} = 3", spec.name),
                        ArgKind::Text => format!("{} = \"...\"", spec.name),
                        ArgKind::RestorePoint => format!("{} = \"before-corruption\"", spec.name),
                        ArgKind::Flag => format!("{} = true", spec.name),
                    };
                    self.push(
                        span.clone(),
                        format!(
                            "`{}` of {} must be {}, not {}",
                            spec.name,
                            builtin.name,
                            arg_kind_label(kind),
                            with_article(other.type_str())
                        ),
                        format!("e.g. {example}"),
                    );
                    None
                }
            };
            if let Some(v) = parsed {
                with.insert(spec.name.to_string(), v);
            }
        }
        for spec in builtin.args.iter().filter(|a| a.required) {
            if given.is_some_and(|g| g.keys().any(|k| k.get_ref() == spec.name)) {
                continue;
            }
            let at = step.with.as_ref().map_or(action.span(), Spanned::span);
            let example = match spec.kind {
                ArgKind::Name(k) => format!(
                    "{} = \"...\" (known {}: {})",
                    spec.name,
                    kind_plural(k),
                    crate::env::known_names(&self.env.names(k))
                ),
                ArgKind::Count => format!("{} = 3", spec.name),
                ArgKind::Text => format!("{} = \"...\"", spec.name),
                ArgKind::RestorePoint => format!("{} = \"before-corruption\"", spec.name),
                ArgKind::Flag => format!("{} = true", spec.name),
            };
            self.push(
                at,
                format!(
                    "{} needs `{}` ({})",
                    builtin.name,
                    spec.name,
                    arg_kind_label(spec.kind)
                ),
                format!("add it to `with`: {example}"),
            );
        }
        Some(Executor::Action { builtin, with })
    }

    fn wait(&mut self, wait: &Spanned<WaitFile>) -> Option<Wait> {
        let w = wait.get_ref();
        let span = wait.span();
        let timeout = match &w.timeout {
            None => {
                self.push(
                    span.clone(),
                    "a wait without a timeout",
                    "add how long to wait before the step fails: wait = { ..., timeout = \"10m\" }",
                );
                None
            }
            Some(t) => self.duration(t, "wait timeout"),
        };

        let mut predicates: Vec<(&str, Range<usize>)> = Vec::new();
        let mut note = |name: &'static str, span: Option<Range<usize>>| {
            if let Some(s) = span {
                predicates.push((name, s));
            }
        };
        note("role", w.role.as_ref().map(Spanned::span));
        note("lag_under", w.lag_under.as_ref().map(Spanned::span));
        note("available", w.available.as_ref().map(Spanned::span));
        note("intact", w.intact.as_ref().map(Spanned::span));
        note("healthy", w.healthy.as_ref().map(Spanned::span));
        note("serving", w.serving.as_ref().map(Spanned::span));
        note("fresher_than", w.fresher_than.as_ref().map(Spanned::span));
        note(
            "taken_since_step",
            w.taken_since_step.as_ref().map(Spanned::span),
        );
        note(
            "ready_at_least",
            w.ready_at_least.as_ref().map(Spanned::span),
        );
        note("points_to", w.points_to.as_ref().map(Spanned::span));
        predicates.sort_by_key(|(_, s)| s.start);

        let (predicate, pspan) = match predicates.as_slice() {
            [] => {
                self.push(
                    span,
                    "a wait without a condition",
                    format!("say what to wait for, {WAIT_FORMS}"),
                );
                return None;
            }
            [one] => one.clone(),
            [first, second, ..] => {
                self.push(
                    second.1.clone(),
                    format!(
                        "two conditions in one wait (`{}` and `{}`)",
                        first.0, second.0
                    ),
                    "a wait holds exactly one condition: keep one, and check the other in the \
                     wait of another step",
                );
                return None;
            }
        };

        // Which subject fields each predicate takes.
        let (needs, example): (&[&str], &str) = match predicate {
            "role" | "lag_under" | "available" | "intact" => (
                &["db"],
                "{ db = \"dr-replica\", role = \"primary\", timeout = \"10m\" }",
            ),
            "healthy" | "serving" => (
                &["region"],
                "{ region = \"dr\", healthy = true, timeout = \"5m\" }",
            ),
            "fresher_than" => (
                &["backup"],
                "{ backup = \"snapshots\", fresher_than = \"20m\", timeout = \"10m\" }",
            ),
            "taken_since_step" => (
                &["backup"],
                "{ backup = \"snapshots\", taken_since_step = true, timeout = \"15m\" }",
            ),
            "ready_at_least" => (
                &["app", "region"],
                "{ app = \"api\", region = \"dr\", ready_at_least = 3, timeout = \"10m\" }",
            ),
            _ => (
                &["dns"],
                "{ dns = \"api\", points_to = \"dr\", timeout = \"5m\" }",
            ),
        };
        let subjects: [(&str, Option<&Spanned<String>>); 5] = [
            ("db", w.db.as_ref()),
            ("region", w.region.as_ref()),
            ("backup", w.backup.as_ref()),
            ("app", w.app.as_ref()),
            ("dns", w.dns.as_ref()),
        ];
        let missing: Vec<&str> = subjects
            .iter()
            .filter(|(name, value)| needs.contains(name) && value.is_none())
            .map(|(name, _)| *name)
            .collect();
        let extra: Vec<(&str, Range<usize>)> = subjects
            .iter()
            .filter(|(name, _)| !needs.contains(name))
            .filter_map(|(name, value)| value.map(|v| (*name, v.span())))
            .collect();
        let quote = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        match (missing.is_empty(), extra.first()) {
            (true, None) => {}
            (false, Some((wrong, _))) => {
                self.push(
                    pspan,
                    format!(
                        "`{predicate}` applies to {}, not to `{wrong}`",
                        quote(needs)
                    ),
                    format!("write it as {example}"),
                );
                return None;
            }
            (false, None) => {
                self.push(
                    pspan,
                    format!("`{predicate}` needs {} in the same wait", quote(&missing)),
                    format!("write it as {example}"),
                );
                return None;
            }
            (true, Some((wrong, at))) => {
                self.push(
                    at.clone(),
                    format!("`{wrong}` does not go with `{predicate}`"),
                    format!(
                        "a wait holds one condition; for `{predicate}` write {example}, and \
                         check anything else in another step"
                    ),
                );
                return None;
            }
        }

        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
        let flag = |v: &Option<Spanned<bool>>| v.as_ref().is_some_and(|b| *b.get_ref());
        let mut check = |kind: NameKind, v: &Option<Spanned<String>>| {
            if let Some(s) = v {
                self.name(kind, s.get_ref(), s.span());
            }
        };
        check(NameKind::Database, &w.db);
        check(NameKind::Region, &w.region);
        check(NameKind::Backup, &w.backup);
        check(NameKind::App, &w.app);
        check(NameKind::Dns, &w.dns);
        check(NameKind::Region, &w.points_to);

        let condition =
            match predicate {
                "role" => {
                    let role = w.role.as_ref()?;
                    let parsed = match role.get_ref().as_str() {
                        "primary" => DbRole::Primary,
                        "replica" => DbRole::Replica,
                        other => {
                            self.push(
                                role.span(),
                                format!("unknown role {other}", other = crate::text::echo(other)),
                                "use \"primary\" or \"replica\"",
                            );
                            return None;
                        }
                    };
                    Condition::DbRole {
                        db: text(&w.db)?,
                        role: parsed,
                    }
                }
                "lag_under" => {
                    let db = w.db.as_ref()?;
                    let replicates = self
                        .env
                        .database(db.get_ref())
                        .is_none_or(|d| d.replica_of.is_some());
                    if !replicates {
                        self.push(
                            pspan,
                            format!(
                                "`lag_under` on {}, which is not a replica",
                                crate::text::echo(db.get_ref())
                            ),
                            "replica lag exists only for a database with `replica_of` in the \
                         environment; wait for a replica (e.g. db = \"dr-replica\")",
                        );
                        return None;
                    }
                    Condition::DbLagUnder {
                        db: db.get_ref().clone(),
                        under: self.duration(w.lag_under.as_ref()?, "lag_under")?,
                    }
                }
                "available" => Condition::DbAvailable {
                    db: text(&w.db)?,
                    available: flag(&w.available),
                },
                "intact" => Condition::DbIntact {
                    db: text(&w.db)?,
                    intact: flag(&w.intact),
                },
                "healthy" => Condition::RegionHealthy {
                    region: text(&w.region)?,
                    healthy: flag(&w.healthy),
                },
                "serving" => Condition::RegionServing {
                    region: text(&w.region)?,
                    serving: flag(&w.serving),
                },
                "taken_since_step" => {
                    let value = w.taken_since_step.as_ref()?;
                    if !*value.get_ref() {
                        self.push(
                            value.span(),
                            "`taken_since_step = false` waits for nothing",
                            "write `taken_since_step = true` to wait for a backup this step \
                             takes, or `fresher_than` for an age",
                        );
                        return None;
                    }
                    Condition::BackupTakenSinceStep {
                        backup: text(&w.backup)?,
                    }
                }
                "fresher_than" => Condition::BackupFresherThan {
                    backup: text(&w.backup)?,
                    within: self.duration(w.fresher_than.as_ref()?, "fresher_than")?,
                },
                "ready_at_least" => {
                    let n = w.ready_at_least.as_ref()?;
                    let Ok(at_least) = u32::try_from(*n.get_ref()) else {
                        self.push(
                        n.span(),
                        format!("ready_at_least must be a count from 0 (got {})", n.get_ref()),
                        "write the number of ready replicas to wait for, e.g. ready_at_least = 3",
                    );
                        return None;
                    };
                    Condition::AppReady {
                        app: text(&w.app)?,
                        region: text(&w.region)?,
                        at_least,
                    }
                }
                _ => Condition::DnsPointsTo {
                    dns: text(&w.dns)?,
                    region: text(&w.points_to)?,
                },
            };
        Some(Wait {
            condition,
            timeout: timeout?,
        })
    }
}

/// The outcome of checking one file.
#[derive(Debug, Clone)]
pub struct FileCheck {
    pub path: PathBuf,
    /// The playbook, or every problem found in the file.
    pub result: Result<Playbook, Diagnostics>,
}

/// What `warroom check` reports: one entry per file, in the order given (directories expanded to
/// their `*.toml` files, sorted by name).
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub files: Vec<FileCheck>,
    /// Problems with the paths themselves (missing, unreadable, a directory without playbooks).
    pub path_errors: Vec<Diagnostic>,
}

impl CheckReport {
    /// True when every file is valid and every path was usable.
    pub fn ok(&self) -> bool {
        self.path_errors.is_empty() && self.files.iter().all(|f| f.result.is_ok())
    }

    /// The number of diagnostics in the report.
    pub fn error_count(&self) -> usize {
        self.path_errors.len()
            + self
                .files
                .iter()
                .map(|f| f.result.as_ref().err().map_or(0, |d| d.0.len()))
                .sum::<usize>()
    }

    /// One line per valid file: `ok  playbooks/region-loss.toml  region-loss (7 steps, targets 30m / RTO 30m)`.
    pub fn ok_lines(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|f| {
                let pb = f.result.as_ref().ok()?;
                Some(format!(
                    "ok  {}  {} ({} steps, targets {} / RTO {})",
                    f.path.display(),
                    pb.id,
                    pb.steps.len(),
                    pb.total_target(),
                    pb.rto
                ))
            })
            .collect()
    }

    /// Every diagnostic, path errors first, then per file in order.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        self.path_errors
            .iter()
            .chain(
                self.files
                    .iter()
                    .filter_map(|f| f.result.as_ref().err())
                    .flat_map(|d| d.0.iter()),
            )
            .collect()
    }

    /// The diagnostics as the CLI prints them to stderr, ending with a count.
    pub fn error_text(&self) -> String {
        let mut out = String::new();
        for d in self.diagnostics() {
            out.push_str(&d.to_string());
            out.push('\n');
        }
        let n = self.error_count();
        if n > 0 {
            out.push_str(&format!(
                "{n} problem{} found\n",
                if n == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

fn path_error(path: &Path, message: String, help: &str) -> Diagnostic {
    Diagnostic {
        path: path.display().to_string(),
        line: 1,
        col: 1,
        message,
        help: Some(help.to_string()),
    }
}

/// The `*.toml` files directly in `dir`, sorted by name.
pub fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Checks playbook files and directories (expanded to their `*.toml` files, sorted) against `env`.
pub fn check_paths(paths: &[PathBuf], env: &Environment) -> CheckReport {
    let mut report = CheckReport::default();
    for path in paths {
        if path.is_dir() {
            match toml_files(path) {
                Ok(files) if files.is_empty() => report.path_errors.push(path_error(
                    path,
                    "no playbooks (*.toml) in this directory".into(),
                    "point at a directory of playbook files, or at the files themselves",
                )),
                Ok(files) => {
                    for file in files {
                        let result = load_file(&file, env).and_then(|pb| restoring_step(&file, pb));
                        report.files.push(FileCheck { path: file, result });
                    }
                }
                Err(e) => report.path_errors.push(path_error(
                    path,
                    format!("cannot read directory: {e}"),
                    "check the path and its permissions",
                )),
            }
        } else if path.exists() {
            let result = load_file(path, env).and_then(|pb| restoring_step(path, pb));
            report.files.push(FileCheck {
                path: path.clone(),
                result,
            });
        } else {
            report.path_errors.push(path_error(
                path,
                "no such file or directory".into(),
                "check the path; playbooks ship in ./playbooks",
            ));
        }
    }
    report
}

/// `warroom check`'s extra rule: a playbook for one of the standard scenarios (every shipped one)
/// names exactly one step with `restores_service = true`, or its RTO achieved has no end. (Loading
/// allows none, so a custom playbook still runs; the engine then counts the resolution.)
pub fn restoring_step(path: &Path, pb: Playbook) -> Result<Playbook, Diagnostics> {
    if pb.scenario == Scenario::Custom || pb.restoring_step().is_some() {
        return Ok(pb);
    }
    let shown = path.display().to_string();
    let src = std::fs::read_to_string(path).unwrap_or_default();
    let at = src
        .find("\nscenario")
        .map_or(0..0, |i| i + 1..i + 1 + "scenario".len());
    Err(Diagnostics(vec![
        Diagnostic::at(
            &shown,
            &src,
            at,
            format!(
                "scenario {} but no step has `restores_service = true`",
                pb.scenario
            ),
        )
        .with_help(
            "mark the step whose completion brings the service back (e.g. the DNS switch once \
             its wait holds): RTO achieved is measured from the disruption to that step",
        ),
    ]))
}

/// Why `find` found nothing usable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FindError {
    /// No file in the directory and no shipped playbook has this id.
    #[error("no playbook {id:?} in {dir} or among the shipped ones; known: {}{}", known.join(", "), if *broken > 0 { format!(" ({broken} file(s) in {dir} do not load: run `warroom check {dir}`)") } else { String::new() })]
    NotFound {
        id: String,
        dir: String,
        /// Ids of every playbook that loads.
        known: Vec<String>,
        /// Files that failed to load while searching.
        broken: usize,
    },
    /// The playbook was found but is invalid.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Finds a playbook for `show ID` / `run ID`: `id_or_path` is a path when it names an existing
/// file or ends in `.toml`; otherwise an id, looked up as `dir/ID.toml`, then by the `id` field of
/// every `*.toml` in `dir`, then among the playbooks shipped in the binary ([`super::SHIPPED`]).
pub fn find(id_or_path: &str, dir: &Path, env: &Environment) -> Result<Playbook, FindError> {
    let as_path = Path::new(id_or_path);
    if as_path.is_file() || id_or_path.ends_with(".toml") {
        return load_file(as_path, env).map_err(FindError::Invalid);
    }
    let direct = dir.join(format!("{id_or_path}.toml"));
    if direct.is_file() {
        return load_file(&direct, env).map_err(FindError::Invalid);
    }
    let mut known = Vec::new();
    let mut broken = 0;
    for file in toml_files(dir).unwrap_or_default() {
        match load_file(&file, env) {
            Ok(pb) if pb.id == id_or_path => return Ok(pb),
            Ok(pb) => known.push(pb.id),
            Err(_) => broken += 1,
        }
    }
    for (name, src) in super::SHIPPED {
        let shown = format!("<shipped>/{name}.toml");
        match parse(&shown, src, env) {
            Ok(pb) if pb.id == id_or_path => return Ok(pb),
            Ok(pb) => known.push(pb.id),
            // A shipped playbook that does not fit this environment (e.g. it names a database
            // the environment lacks) is simply not offered.
            Err(_) => {}
        }
    }
    known.sort();
    known.dedup();
    Err(FindError::NotFound {
        id: id_or_path.to_string(),
        dir: dir.display().to_string(),
        known,
        broken,
    })
}

/// Environment variable names a step may set: a letter or `_`, then letters, digits or `_`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_values() {
        assert_eq!(content_hash(""), "cbf29ce484222325");
        assert_eq!(content_hash("a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn ids() {
        assert!(is_id("region-loss"));
        assert!(is_id("step_2"));
        assert!(!is_id("Region"));
        assert!(!is_id("-x"));
        assert!(!is_id(""));
        assert!(!is_id("a b"));
    }
}
