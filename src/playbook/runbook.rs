//! The printable runbook: a playbook on paper, for the war-room wall and for when terminals fail.
//!
//! Everything an operator needs without the console: objectives, then per step its number, title,
//! target and the running total against the RTO, the guide, the checklist as boxes, the exact
//! command with every logical name resolved to its resource, the confirmation rule, the wait
//! condition. Secrets are masked.
//!
//! Every value from the playbook or the environment is bounded and sanitised here: one-line
//! fields (titles, names, checklist items, the command) through [`field`], text blocks (summary,
//! guide, free-text arguments) through [`clip`]; the output gate ([`crate::text::gate`]) shows
//! what is left of their control characters when `show` prints.

use super::model::{ArgValue, Executor, Playbook, Reveal, Step};
use crate::actions::ArgKind;
use crate::duration::Dur;
use crate::env::Environment;
use crate::text::{BLOCK_MAX_CHARS, clip, field};

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, at most [`TEXT_WIDTH`] columns where the text allows.
    Text,
    /// GitHub-flavoured Markdown.
    Markdown,
}

/// Width plain-text runbooks are wrapped to.
pub const TEXT_WIDTH: usize = 88;

/// Renders `playbook` as a runbook; logical names are resolved in `env`.
pub fn render(playbook: &Playbook, env: &Environment, format: Format) -> String {
    match format {
        Format::Text => text(playbook, env),
        Format::Markdown => markdown(playbook, env),
    }
}

/// `warroom show ID_OR_PATH`: finds the playbook ([`super::find`]: a path, an id in `dir`, or a
/// shipped one) and renders its runbook.
pub fn show(
    id_or_path: &str,
    dir: &std::path::Path,
    env: &Environment,
    format: Format,
) -> Result<String, super::FindError> {
    let playbook = super::find(id_or_path, dir, env)?;
    Ok(render(&playbook, env, format))
}

/// Word-wraps `line` to `width` columns; continuation lines keep the indentation (and the
/// bullet's width) of the first.
fn wrap(line: &str, width: usize, indent: &str) -> Vec<String> {
    let lead = line.len() - line.trim_start().len();
    let body = line.trim_start();
    let bullet = if body.starts_with("- ") || body.starts_with("* ") {
        2
    } else {
        body.find(". ")
            .filter(|&i| i > 0 && i <= 3 && body[..i].chars().all(|c| c.is_ascii_digit()))
            .map_or(0, |i| i + 2)
    };
    let first_prefix = format!("{indent}{}", " ".repeat(lead));
    let next_prefix = format!("{first_prefix}{}", " ".repeat(bullet));
    let mut out = Vec::new();
    let mut current = first_prefix.clone();
    let mut empty = true;
    for word in body.split_whitespace() {
        let len = current.chars().count();
        if !empty && len + 1 + word.chars().count() > width {
            out.push(current);
            current = next_prefix.clone();
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(word);
        empty = false;
    }
    if !empty || out.is_empty() {
        out.push(current.trim_end().to_string());
    }
    out
}

fn wrapped(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in text.trim().lines() {
        for l in wrap(line, TEXT_WIDTH, indent) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

/// The free-text arguments of an action (notify.webhook's message), rendered in full.
fn text_args(step: &Step, playbook: &Playbook) -> Vec<(String, String)> {
    let Some(Executor::Action { builtin, with }) = &step.executor else {
        return Vec::new();
    };
    builtin
        .args
        .iter()
        .filter(|a| a.kind == ArgKind::Text)
        .filter_map(|a| match with.get(a.name) {
            Some(ArgValue::Text(t)) => Some((
                a.name.to_string(),
                clip(&t.render(&playbook.vars, Reveal::Masked), BLOCK_MAX_CHARS).into_owned(),
            )),
            _ => None,
        })
        .collect()
}

/// The one-line command, without the free-text arguments printed in full below it.
fn short_command(step: &Step, playbook: &Playbook, env: &Environment) -> String {
    let full = step.command_line(&playbook.vars, Reveal::Masked, Some(env));
    let texts = text_args(step, playbook);
    let mut short = full;
    for (name, value) in &texts {
        let quoted = format!(" {name}={value:?}");
        short = short.replacen(&quoted, &format!(" {name}=<below>"), 1);
    }
    // The command is exact (see `shell_quote`), only a monstrous one is cut, with a count.
    crate::text::visible(&clip(&short, BLOCK_MAX_CHARS)).into_owned()
}

fn confirm_rule(step: &Step, playbook: &Playbook) -> String {
    match step.confirm_text(&playbook.vars) {
        Some(t) => format!("DESTRUCTIVE: confirm by typing {t:?}"),
        None => "confirm in the dialog".into(),
    }
}

fn text(playbook: &Playbook, env: &Environment) -> String {
    let mut out = String::new();
    let heading = format!(
        "RUNBOOK  {}  [{}]",
        field(&playbook.title),
        field(&playbook.id)
    );
    out.push_str(&heading);
    out.push('\n');
    out.push_str(&"=".repeat(heading.chars().count()));
    out.push('\n');
    out.push_str(&format!("Scenario     {}\n", playbook.scenario));
    out.push_str(&format!(
        "Objectives   RTO {} · RPO {}\n",
        playbook.rto, playbook.rpo
    ));
    out.push_str(&format!(
        "Steps        {}, targets {} in total\n",
        playbook.steps.len(),
        playbook.total_target()
    ));
    for r in &playbook.reminders {
        out.push_str(&format!(
            "Comms        every {} from the declaration: {}\n",
            r.every,
            field(&r.text)
        ));
    }
    out.push_str(&format!("Environment  {}\n", field(&env.name)));
    out.push_str(&format!(
        "Playbook     {} (version {})\n",
        field(&playbook.source),
        playbook.hash
    ));
    if !playbook.summary.is_empty() {
        out.push('\n');
        out.push_str(&wrapped(&clip(&playbook.summary, BLOCK_MAX_CHARS), ""));
    }
    out.push('\n');
    out.push_str(&wrapped(
        "Declare the incident before step 1 (the RTO counts from the outage's start). Nothing below runs \
         without an explicit confirmation; a DESTRUCTIVE step needs the named resource typed. \
         T+ is the running total of step targets.",
        "",
    ));
    let n = playbook.steps.len();
    let mut total = 0;
    for (i, step) in playbook.steps.iter().enumerate() {
        total += step.target.secs();
        let over = if total > playbook.rto.secs() {
            "  OVER RTO"
        } else {
            ""
        };
        out.push('\n');
        out.push_str(&"-".repeat(TEXT_WIDTH));
        out.push('\n');
        let mut title = format!("Step {} of {n}  {}", i + 1, field(&step.title));
        if step.destructive {
            title.push_str("  [DESTRUCTIVE]");
        }
        out.push_str(&title);
        out.push('\n');
        out.push_str(&format!(
            "  id {} · target {} · T+{} of RTO {}{over}\n",
            field(&step.id),
            step.target,
            Dur::from_secs(total),
            playbook.rto
        ));
        let guide = step.guide.render(&playbook.vars, Reveal::Masked);
        if !guide.trim().is_empty() {
            out.push('\n');
            out.push_str(&wrapped(&clip(&guide, BLOCK_MAX_CHARS), "  "));
        }
        if !step.checklist.is_empty() {
            out.push('\n');
            for item in &step.checklist {
                let text = field(&item.render(&playbook.vars, Reveal::Masked)).into_owned();
                let lines = wrap(&text, TEXT_WIDTH - 6, "");
                for (j, l) in lines.iter().enumerate() {
                    let prefix = if j == 0 { "  [ ] " } else { "      " };
                    out.push_str(&format!("{prefix}{}\n", l.trim_start()));
                }
            }
        }
        out.push('\n');
        if step.executor.is_some() {
            let label = match step.executor {
                Some(Executor::Run { .. }) => "Run",
                _ => "Action",
            };
            out.push_str(&format!(
                "  {label:<10} {}\n",
                short_command(step, playbook, env)
            ));
            if let Some(b) = step.builtin() {
                out.push_str(&format!("  {:<10} {}\n", "", b.summary));
            }
            for (name, value) in text_args(step, playbook) {
                out.push_str(&format!("  {name}:\n"));
                for line in value.trim().lines() {
                    for l in wrap(line, TEXT_WIDTH - 4, "") {
                        out.push_str(&format!("  | {l}\n"));
                    }
                }
            }
            out.push_str(&format!(
                "  {:<10} {}\n",
                "Confirm",
                confirm_rule(step, playbook)
            ));
            if let Some(t) = step.timeout {
                out.push_str(&format!(
                    "  {:<10} killed and failed after {t}\n",
                    "Timeout"
                ));
            }
            if step.capture_rpo {
                out.push_str(&format!(
                    "  {:<10} the data-loss window is recorded when it starts\n",
                    "RPO"
                ));
            }
        }
        if let Some(w) = &step.wait {
            out.push_str(&format!(
                "  {:<10} {} (timeout {})\n",
                "Wait for", w.condition, w.timeout
            ));
        }
        if step.restores_service {
            out.push_str(&format!(
                "  {:<10} done here: the outage ends (RTO achieved = disrupted -> here)\n",
                "Service"
            ));
        }
        out.push_str(&format!(
            "  {:<10} {}\n",
            "On failure",
            on_failure_text(step)
        ));
    }
    out.push('\n');
    out.push_str(&"-".repeat(TEXT_WIDTH));
    out.push('\n');
    out.push_str(&format!(
        "End: every step done or skipped (with a reason). Targets {} / RTO {}.\n",
        playbook.total_target(),
        playbook.rto
    ));
    out
}

fn on_failure_text(step: &Step) -> &'static str {
    match step.on_failure {
        super::model::OnFailure::Stop => "stop: retry or skip with a reason before going on",
        super::model::OnFailure::Continue => "continue: record the failure and go on",
    }
}

/// Markdown-escapes text used inline (tables, headings), bounded and sanitised ([`field`]).
fn md_inline(s: &str) -> String {
    field(s).replace('|', "\\|")
}

fn markdown(playbook: &Playbook, env: &Environment) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Runbook: {} (`{}`)\n\n",
        md_inline(&playbook.title),
        md_inline(&playbook.id)
    ));
    out.push_str("| Scenario | RTO | RPO | Steps | Targets | Environment | Version |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | `{}` |\n\n",
        playbook.scenario,
        playbook.rto,
        playbook.rpo,
        playbook.steps.len(),
        playbook.total_target(),
        md_inline(&env.name),
        playbook.hash
    ));
    if !playbook.summary.is_empty() {
        for line in clip(&playbook.summary, BLOCK_MAX_CHARS).lines() {
            out.push_str(&format!("> {line}\n"));
        }
        out.push('\n');
    }
    for r in &playbook.reminders {
        out.push_str(&format!(
            "- **Comms:** every {} from the declaration: {}\n",
            r.every,
            md_inline(&r.text)
        ));
    }
    if !playbook.reminders.is_empty() {
        out.push('\n');
    }
    out.push_str(
        "Declare the incident before step 1 (the RTO counts from the outage's start). Nothing below runs \
         without an explicit confirmation; a **DESTRUCTIVE** step needs the named resource \
         typed. T+ is the running total of step targets.\n",
    );
    let mut total = 0;
    for (i, step) in playbook.steps.iter().enumerate() {
        total += step.target.secs();
        let over = if total > playbook.rto.secs() {
            " **OVER RTO**"
        } else {
            ""
        };
        let destructive = if step.destructive {
            " — **DESTRUCTIVE**"
        } else {
            ""
        };
        out.push_str(&format!(
            "\n## {}. {}{destructive}\n\n",
            i + 1,
            md_inline(&step.title)
        ));
        out.push_str(&format!(
            "`{}` · target **{}** · T+{} of RTO {}{over}\n",
            md_inline(&step.id),
            step.target,
            Dur::from_secs(total),
            playbook.rto
        ));
        let guide = step.guide.render(&playbook.vars, Reveal::Masked);
        if !guide.trim().is_empty() {
            out.push('\n');
            out.push_str(clip(&guide, BLOCK_MAX_CHARS).trim());
            out.push('\n');
        }
        if !step.checklist.is_empty() {
            out.push('\n');
            for item in &step.checklist {
                out.push_str(&format!(
                    "- [ ] {}\n",
                    field(&item.render(&playbook.vars, Reveal::Masked))
                ));
            }
        }
        let mut facts = Vec::new();
        if step.executor.is_some() {
            let label = match step.executor {
                Some(Executor::Run { .. }) => "Run",
                _ => "Action",
            };
            let mut line = format!("**{label}:** `{}`", short_command(step, playbook, env));
            if let Some(b) = step.builtin() {
                line.push_str(&format!(" — {}", b.summary));
            }
            facts.push(line);
            facts.push(format!("**Confirm:** {}", confirm_rule(step, playbook)));
            if let Some(t) = step.timeout {
                facts.push(format!("**Timeout:** killed and failed after {t}"));
            }
            if step.capture_rpo {
                facts.push("**RPO:** the data-loss window is recorded when it starts".into());
            }
        }
        if let Some(w) = &step.wait {
            facts.push(format!(
                "**Wait for:** {} (timeout {})",
                w.condition, w.timeout
            ));
        }
        if step.restores_service {
            facts.push(
                "**Service:** restored once this step is done (RTO achieved = disrupted -> here)"
                    .into(),
            );
        }
        facts.push(format!("**On failure:** {}", on_failure_text(step)));
        out.push('\n');
        for f in facts {
            out.push_str(&format!("- {f}\n"));
        }
        for (name, value) in text_args(step, playbook) {
            out.push_str(&format!("\n`{name}`:\n\n```text\n{}\n```\n", value.trim()));
        }
    }
    out.push_str(&format!(
        "\n---\n\nEnd: every step done or skipped (with a reason). Targets {} / RTO {}.\n",
        playbook.total_target(),
        playbook.rto
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_with_hanging_indent_for_bullets() {
        let lines = wrap("- alpha beta gamma delta", 14, "  ");
        assert_eq!(lines, vec!["  - alpha beta", "    gamma", "    delta"]);
        assert_eq!(wrap("", 10, "  "), vec![""]);
    }
}
