//! A joined console's own keys (shared war room, issue 11): a scribe adds a note (`n`) or marks
//! a milestone (`m`), an approver approves the armed step (`A`) by typing its resource's name.
//! Each becomes a signed request sent off the UI thread by the runtime (`Effect::ShareSend`,
//! the same path as `warroom request`); the console says "sent", then "accepted" or
//! "refused: <why>" once the driver's journal, mirrored, shows the verdict.

use std::collections::BTreeMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{App, Effect, ShareState};
use crate::playbook::Event;
use crate::share::request::{Body, Role, Verdict, verdict_of};

/// What a joiner is typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharePrompt {
    pub kind: ShareAsk,
    pub text: String,
}

/// What a joiner asks the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareAsk {
    Note,
    Milestone,
    /// Approve the arming `armed` of `step`: the approver types `resource`.
    Approve {
        armed: ArmedSeen,
    },
}

impl ShareAsk {
    pub fn title(&self) -> String {
        match self {
            ShareAsk::Note => "Note for the driver's journal (signed, sent on Enter)".into(),
            ShareAsk::Milestone => {
                "Milestone reached, e.g. customer comms sent (signed, sent on Enter)".into()
            }
            ShareAsk::Approve { armed } => format!(
                "Approve step {}: type {} to approve (signed)",
                crate::text::visible(&armed.step),
                crate::text::visible(&armed.resource)
            ),
        }
    }

    fn what(&self) -> &'static str {
        match self {
            ShareAsk::Note => "note",
            ShareAsk::Milestone => "milestone",
            ShareAsk::Approve { .. } => "approval",
        }
    }
}

/// The arming the followed journal shows last (`approval_armed`): what an approver sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmedSeen {
    pub step: String,
    pub armed: String,
    pub command: String,
    pub resource: String,
    pub by: String,
    pub key: String,
    /// The evidence the driver armed on, in one line.
    pub evidence: String,
}

/// A request sent from this console and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub ticket: u64,
    pub what: &'static str,
    /// The request's id once it is in the store.
    pub id: Option<String>,
    pub state: SentState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentState {
    Sending,
    Sent,
    Accepted,
    Refused(String),
    Failed(String),
}

/// A joiner's requests: what it is typing, what it sent, what the journal said.
#[derive(Debug, Clone, Default)]
pub struct Joined {
    pub prompt: Option<SharePrompt>,
    pub armed: Option<ArmedSeen>,
    pub sent: Vec<Sent>,
    /// The last journal sequence followed: a request says it was made having seen it.
    pub seen: u64,
    /// Verdicts on this principal's requests seen before their put was acknowledged.
    early: BTreeMap<String, Verdict>,
    next_ticket: u64,
}

impl App {
    /// The role this console joined in, if it joined.
    pub fn joined_role(&self) -> Option<Role> {
        match &self.share {
            Some(ShareState::Joined { role, .. }) => Some(*role),
            _ => None,
        }
    }

    /// The arming an approver can approve now: the current step waits for approval and the
    /// followed journal armed it.
    pub fn approvable(&self) -> Option<&ArmedSeen> {
        let incident = self.incident.as_ref()?;
        let step = incident.engine.current()?;
        let view = incident.engine.step_view(step, self.now)?;
        view.waiting_approval?;
        let id = &incident.engine.playbook().steps.get(step)?.id;
        self.joined.armed.as_ref().filter(|a| a.step == *id)
    }

    /// A joined console's keys: its open prompt takes every key; `n`, `m` and `A` open one.
    /// `None`: not a joiner's key (the viewing keys, or a refusal by the caller).
    pub(super) fn on_joined_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let role = self.joined_role()?;
        if let Some(prompt) = &mut self.joined.prompt {
            match key.code {
                KeyCode::Esc => {
                    self.joined.prompt = None;
                    self.say("not sent");
                }
                KeyCode::Enter => return Some(self.submit_joined()),
                KeyCode::Backspace => {
                    prompt.text.pop();
                }
                KeyCode::Char(c) if !c.is_control() && prompt.text.chars().count() < 2000 => {
                    prompt.text.push(c);
                }
                _ => {}
            }
            return Some(Vec::new());
        }
        // What the key asks, and a request of that kind (for the role's check).
        let (what, sample) = match key.code {
            KeyCode::Char('n') => (
                "note",
                Body::Note {
                    text: String::new(),
                },
            ),
            KeyCode::Char('m') => (
                "milestone",
                Body::Milestone {
                    text: String::new(),
                },
            ),
            KeyCode::Char('A') => (
                "approval",
                Body::Approve {
                    step: String::new(),
                    armed: String::new(),
                    resource: String::new(),
                },
            ),
            _ => return None,
        };
        if !role.may(&sample) {
            let (whose, needs) = match sample {
                Body::Approve { .. } => ("an approver's", "approver"),
                Body::Note { .. } | Body::Milestone { .. } => ("a scribe's", "scribe"),
            };
            self.say(format!(
                "you joined as {}: a {what} is {whose} to make (join with --role {needs})",
                role.name()
            ));
            return Some(Vec::new());
        }
        let kind = match sample {
            Body::Note { .. } => ShareAsk::Note,
            Body::Milestone { .. } => ShareAsk::Milestone,
            Body::Approve { .. } => match self.approvable() {
                Some(armed) => ShareAsk::Approve {
                    armed: armed.clone(),
                },
                None => {
                    self.say("nothing waits for approval");
                    return Some(Vec::new());
                }
            },
        };
        if self.incident.is_none() {
            self.say("no incident yet");
            return Some(Vec::new());
        }
        self.joined.prompt = Some(SharePrompt {
            kind,
            text: String::new(),
        });
        Some(Vec::new())
    }

    /// Enter in a joiner's prompt: the request to send, or why not.
    fn submit_joined(&mut self) -> Vec<Effect> {
        let Some(prompt) = self.joined.prompt.take() else {
            return Vec::new();
        };
        let text = prompt.text.trim().to_string();
        let body = match &prompt.kind {
            ShareAsk::Note | ShareAsk::Milestone if text.is_empty() => {
                self.say("nothing typed: nothing sent");
                return Vec::new();
            }
            ShareAsk::Note => Body::Note { text },
            ShareAsk::Milestone => Body::Milestone { text },
            ShareAsk::Approve { armed } => {
                if text != armed.resource {
                    self.say(format!(
                        "not approved: typed {:?}, approving needs {:?} (the resource's name)",
                        crate::text::echo(&text),
                        armed.resource
                    ));
                    self.joined.prompt = Some(SharePrompt {
                        kind: prompt.kind.clone(),
                        text: String::new(),
                    });
                    return Vec::new();
                }
                Body::Approve {
                    step: armed.step.clone(),
                    armed: armed.armed.clone(),
                    resource: text,
                }
            }
        };
        let ticket = self.joined.next_ticket;
        self.joined.next_ticket += 1;
        self.joined.sent.push(Sent {
            ticket,
            what: prompt.kind.what(),
            id: None,
            state: SentState::Sending,
        });
        self.say(format!("{}: signing and sending...", prompt.kind.what()));
        vec![Effect::ShareSend {
            ticket,
            body,
            sequence: self.joined.seen,
        }]
    }

    /// The runtime put the request in the store (its id), or could not (why).
    pub(super) fn share_sent(&mut self, ticket: u64, result: Result<String, String>) {
        self.dirty = true;
        let Some(sent) = self.joined.sent.iter_mut().find(|s| s.ticket == ticket) else {
            return;
        };
        let what = sent.what;
        let said = match result {
            Ok(id) => {
                let early = self.joined.early.remove(&id);
                sent.id = Some(id.clone());
                sent.state = SentState::Sent;
                match early {
                    Some(verdict) => {
                        sent.state = state_of(&verdict);
                        said_of(what, &verdict)
                    }
                    None => format!(
                        "{what} sent (request {}); waiting for the driver",
                        crate::text::visible(&id)
                    ),
                }
            }
            Err(why) => {
                sent.state = SentState::Failed(why.clone());
                format!("{what} not sent: {}", crate::text::field(&why))
            }
        };
        self.say(said);
    }

    /// A followed event (or one of the journal before joining): the arming an approver is
    /// shown, the sequence seen, a verdict on a request of ours.
    pub fn joined_saw(&mut self, seq: u64, event: &Event) {
        if self.joined_role().is_none() {
            return;
        }
        self.joined.seen = self.joined.seen.max(seq);
        if let Event::ApprovalArmed {
            step,
            command,
            resource,
            evidence,
            by,
            key,
            armed,
            ..
        } = event
        {
            self.joined.armed = Some(ArmedSeen {
                step: step.clone(),
                armed: armed.clone(),
                command: command.clone(),
                resource: resource.clone(),
                by: by.clone(),
                key: key.clone(),
                evidence: evidence.summary(),
            });
        }
        let mut said = None;
        let mut matched = false;
        for sent in &mut self.joined.sent {
            let Some(id) = &sent.id else { continue };
            if let Some(verdict) = verdict_of(event, id) {
                sent.state = state_of(&verdict);
                said = Some(said_of(sent.what, &verdict));
                matched = true;
            }
        }
        if !matched {
            // A verdict on one of ours whose put is not acknowledged yet.
            let mine = match event {
                Event::SharedNote { by, .. } | Event::Approved { by, .. } => {
                    (by.principal == self.operator).then(|| (by.request.clone(), Verdict::Taken))
                }
                Event::RequestRefused {
                    request,
                    principal,
                    reason,
                } => (principal.as_deref() == Some(self.operator.as_str()))
                    .then(|| (request.clone(), Verdict::Refused(reason.clone()))),
                _ => None,
            };
            if let Some((id, verdict)) = mine
                && self
                    .joined
                    .sent
                    .iter()
                    .any(|s| s.state == SentState::Sending)
            {
                self.joined.early.insert(id, verdict);
            }
        }
        if let Some(said) = said {
            self.say(said);
        }
    }
}

fn state_of(verdict: &Verdict) -> SentState {
    match verdict {
        Verdict::Taken => SentState::Accepted,
        Verdict::Refused(why) => SentState::Refused(why.clone()),
    }
}

fn said_of(what: &str, verdict: &Verdict) -> String {
    match verdict {
        Verdict::Taken => format!("{what} accepted: the driver's journal has it"),
        Verdict::Refused(why) => format!("{what} refused: {}", crate::text::field(why)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};
    use ratatui::crossterm::event::{KeyCode, KeyEvent};

    use super::*;
    use crate::app::{Action, Mode};
    use crate::env::Environment;
    use crate::telemetry::Board;
    use crate::telemetry::source::Feeds;
    use crate::theme::Theme;

    fn joined(role: Role) -> App {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid");
        let env = Environment::demo();
        let board = Board::new([("x".to_string(), Feeds::ALL)], TimeDelta::seconds(5));
        let src = crate::playbook::SHIPPED
            .iter()
            .find(|(id, _)| *id == "region-loss")
            .map(|(_, src)| *src)
            .expect("shipped");
        let pb = crate::playbook::parse("<shipped>/region-loss.toml", src, &env).expect("valid");
        let mut a = App::new(env, Mode::Drill, Theme::fallback(), board, now, 1.0);
        a.start_incident(pb);
        a.following = Some("/joined.jsonl".into());
        a.operator = "bob@example".into();
        a.share = Some(ShareState::Joined { role, view: None });
        a
    }

    fn press(a: &mut App, code: KeyCode) -> Vec<Effect> {
        a.update(Action::Key(KeyEvent::from(code)))
    }

    fn typed(a: &mut App, text: &str) {
        for c in text.chars() {
            assert!(press(a, KeyCode::Char(c)).is_empty());
        }
    }

    fn said(a: &App) -> String {
        a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
    }

    fn signed(request: &str) -> crate::playbook::Signed {
        crate::playbook::Signed {
            request: request.into(),
            principal: "bob@example".into(),
            role: "scribe".into(),
            key: "SHA256:bob".into(),
            sequence: 3,
            signed: String::new(),
            signature: String::new(),
        }
    }

    #[test]
    fn an_observer_is_refused_naming_the_role_and_nothing_is_sent() {
        let mut a = joined(Role::Observer);
        for code in [KeyCode::Char('n'), KeyCode::Char('m'), KeyCode::Char('A')] {
            assert!(press(&mut a, code).is_empty());
            let s = said(&a);
            assert!(s.contains("you joined as observer"), "{s}");
            assert!(a.joined.prompt.is_none());
        }
        // A scribe may not approve; an approver may not write notes.
        let mut a = joined(Role::Scribe);
        press(&mut a, KeyCode::Char('A'));
        assert!(said(&a).contains("an approver's"), "{}", said(&a));
        let mut a = joined(Role::Approver);
        press(&mut a, KeyCode::Char('n'));
        assert!(said(&a).contains("a scribe's"), "{}", said(&a));
        // Nothing armed: nothing to approve.
        press(&mut a, KeyCode::Char('A'));
        assert_eq!(said(&a), "nothing waits for approval");
    }

    #[test]
    fn a_scribes_note_is_sent_then_accepted_or_refused_by_the_journal() {
        let mut a = joined(Role::Scribe);
        let now = a.now;
        a.update(Action::Followed(vec![(
            3,
            now,
            Event::Note {
                text: "seen".into(),
            },
        )]));
        assert!(press(&mut a, KeyCode::Char('n')).is_empty());
        // The prompt takes every key, `q` included.
        typed(&mut a, "comms sent q");
        let effects = press(&mut a, KeyCode::Enter);
        assert_eq!(
            effects,
            vec![Effect::ShareSend {
                ticket: 0,
                body: Body::Note {
                    text: "comms sent q".into()
                },
                sequence: 3,
            }]
        );
        a.update(Action::ShareSent {
            ticket: 0,
            result: Ok("r1".into()),
        });
        assert!(said(&a).contains("note sent (request r1)"), "{}", said(&a));
        // Someone else's request: nothing said about ours.
        a.update(Action::Followed(vec![(
            4,
            now,
            Event::SharedNote {
                text: "x".into(),
                milestone: false,
                by: signed("r0"),
            },
        )]));
        assert!(said(&a).contains("note sent"), "{}", said(&a));
        a.update(Action::Followed(vec![(
            5,
            now,
            Event::SharedNote {
                text: "comms sent q".into(),
                milestone: false,
                by: signed("r1"),
            },
        )]));
        assert!(said(&a).contains("note accepted"), "{}", said(&a));
        assert_eq!(a.joined.sent[0].state, SentState::Accepted);

        // A milestone refused, its verdict arriving before the put's answer.
        press(&mut a, KeyCode::Char('m'));
        typed(&mut a, "failover announced");
        let effects = press(&mut a, KeyCode::Enter);
        assert!(matches!(
            effects.as_slice(),
            [Effect::ShareSend {
                ticket: 1,
                body: Body::Milestone { .. },
                sequence: 5
            }]
        ));
        a.update(Action::Followed(vec![(
            6,
            now,
            Event::RequestRefused {
                request: "r2".into(),
                principal: Some("bob@example".into()),
                reason: "replayed".into(),
            },
        )]));
        a.update(Action::ShareSent {
            ticket: 1,
            result: Ok("r2".into()),
        });
        assert_eq!(said(&a), "milestone refused: replayed");
        // A put that failed says why; Esc sends nothing.
        press(&mut a, KeyCode::Char('n'));
        typed(&mut a, "x");
        press(&mut a, KeyCode::Enter);
        a.update(Action::ShareSent {
            ticket: 2,
            result: Err("the store cannot be reached".into()),
        });
        assert!(said(&a).contains("note not sent: the store cannot be reached"));
        press(&mut a, KeyCode::Char('n'));
        typed(&mut a, "y");
        assert!(press(&mut a, KeyCode::Esc).is_empty());
        assert!(a.joined.prompt.is_none());
        assert_eq!(said(&a), "not sent");
    }
}
