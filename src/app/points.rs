//! The restore-point picker of a `db.restore` step (`t`): the same list `warroom
//! restore-points` prints (every backup of the series, the point-in-time window, the gaps), built
//! off the UI thread (`Effect::LoadRestorePoints`; it reads the archive or asks the simulator),
//! and the operator's choice, which the engine checks with the one resolver
//! (`Input::ChooseRestorePoint`) before it replaces the playbook's `to`.
//!
//! Pure state: keys in, a choice out; the App hands the choice to the engine.

use chrono::{DateTime, Utc};

use crate::recovery::{Listed, RestoreTo};
use crate::restore_points::RestorePoints;

/// Characters a typed RFC 3339 time can hold.
fn time_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | '+' | 'T' | 't' | 'Z' | 'z' | ' ')
}

/// Longest typed time kept (`2026-11-26T10:20:59.123456789+05:30` is 35).
const TYPED_MAX: usize = 40;

/// Where the list is.
#[derive(Debug, Clone)]
pub enum Load {
    /// Asked for; the runtime builds it off the UI thread.
    Loading,
    /// It could not be built: why (the operator can still choose by name or time, or go on
    /// with the playbook's `to`).
    Failed(String),
    Ready(Box<RestorePoints>),
}

/// One row the cursor can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// `before-corruption` (the default, preselected).
    BeforeCorruption,
    /// `latest-verified-backup` (refused, with why, while no restore test passed).
    LatestVerified,
    /// `newest-good-backup` (verified or not).
    NewestGood,
    /// A backup of the list (index into `backups`): its time.
    Backup(usize),
    /// A point-in-time window (index into `pitr.windows`): Enter types a time, starting with its
    /// end.
    Window(usize),
    /// Type an RFC 3339 time.
    TypeTime,
}

/// What a key did in the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerKey {
    /// Nothing more to do.
    Stay,
    /// Close it: the step keeps the choice it had (the playbook's `to`, or an earlier pick).
    Close,
    /// The operator chose this: hand it to the engine with what the list measured.
    Choose(RestoreTo, Listed),
}

/// The picker's state.
#[derive(Debug, Clone)]
pub struct PointPicker {
    /// The `db.restore` step it chooses for.
    pub step: usize,
    pub db: String,
    pub series: String,
    pub load: Load,
    /// The row under the cursor (index into [`PointPicker::rows`]).
    pub selected: usize,
    /// A time being typed (`Some` while typing).
    pub typing: Option<String>,
    /// Why the last choice was refused (the resolver's words, with the window and gaps).
    pub refused: Option<String>,
}

impl PointPicker {
    pub fn new(step: usize, db: String, series: String) -> Self {
        PointPicker {
            step,
            db,
            series,
            load: Load::Loading,
            selected: 0,
            typing: None,
            refused: None,
        }
    }

    /// The list arrived (or failed).
    pub fn loaded(&mut self, result: Result<RestorePoints, String>) {
        self.load = match result {
            Ok(list) => Load::Ready(Box::new(list)),
            Err(e) => Load::Failed(e),
        };
        self.selected = 0;
    }

    /// The list, when it arrived.
    pub fn list(&self) -> Option<&RestorePoints> {
        match &self.load {
            Load::Ready(l) => Some(l),
            _ => None,
        }
    }

    /// What the list measured, for the resolver (nothing while loading or after a failure).
    pub fn listed(&self) -> Listed {
        self.list().map(RestorePoints::listed).unwrap_or_default()
    }

    /// The rows, top to bottom: the two named choices, the point-in-time windows, typing a
    /// time, then every backup (newest first; the longest part, so it scrolls last). While
    /// loading there are none.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = match &self.load {
            Load::Loading => return Vec::new(),
            _ => vec![Row::BeforeCorruption, Row::LatestVerified, Row::NewestGood],
        };
        let windows = self
            .list()
            .and_then(|l| l.pitr.as_ref())
            .map_or(0, |p| p.windows.len());
        rows.extend((0..windows).map(Row::Window));
        rows.push(Row::TypeTime);
        if let Some(list) = self.list() {
            rows.extend((0..list.backups.len()).map(Row::Backup));
        }
        rows
    }

    /// The choice a row stands for (`None`: a row that starts typing instead).
    pub fn choice(&self, row: Row) -> Option<RestoreTo> {
        match row {
            Row::BeforeCorruption => Some(RestoreTo::BeforeCorruption),
            Row::LatestVerified => Some(RestoreTo::LatestVerifiedBackup),
            Row::NewestGood => Some(RestoreTo::NewestGoodBackup),
            Row::Backup(i) => self
                .list()
                .and_then(|l| l.backups.get(i))
                .map(|b| RestoreTo::At(b.time)),
            Row::Window(_) | Row::TypeTime => None,
        }
    }

    /// The row under the cursor.
    pub fn current(&self) -> Option<Row> {
        let rows = self.rows();
        rows.get(self.selected.min(rows.len().saturating_sub(1)))
            .copied()
    }

    /// Why a backup row cannot be restored from, in plain words (`None`: it can be chosen).
    /// A failed attempt holds nothing; a backup whose newest restore test failed is refused
    /// as a source (the resolver never starts from it either). Its time can still be typed:
    /// a point-in-time restore from an earlier backup.
    pub fn unusable(&self, row: Row) -> Option<String> {
        let Row::Backup(i) = row else { return None };
        let b = self.list()?.backups.get(i)?;
        let at = b.time.format("%H:%M:%S");
        if b.failed {
            return Some(format!(
                "{}: the backup attempt FAILED, there is nothing to restore from it; type {at} \
                 to replay to that time from an earlier backup",
                crate::text::visible(&b.name)
            ));
        }
        match &b.last_verified {
            Some(v) if !v.ok => Some(format!(
                "{}: its restore test FAILED ({} UTC): restoring from it is refused; type {at} \
                 to replay to that time from an earlier backup",
                crate::text::visible(&b.name),
                v.at.format("%H:%M:%S")
            )),
            _ => None,
        }
    }

    /// An example of a typed time: a minute before the onset (or the newest backup), else
    /// a fixed one; always UTC, to the second.
    pub fn example_time(&self) -> String {
        let near = self.list().and_then(|l| {
            l.onset
                .map(|o| o - chrono::TimeDelta::minutes(1))
                .or_else(|| l.backups.first().map(|b| b.time))
        });
        near.map_or_else(
            || "2026-11-26T19:40:00Z".to_string(),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
    }

    /// A window's end, which typing starts from on a window row.
    fn window_end(&self, i: usize) -> Option<DateTime<Utc>> {
        self.list()
            .and_then(|l| l.pitr.as_ref())
            .and_then(|p| p.windows.get(i))
            .map(|w| w.to)
    }

    /// Handles a key (`code` as crossterm names it, reduced to what the picker reads).
    pub fn key(&mut self, key: Key) -> PickerKey {
        if let Some(text) = &mut self.typing {
            // A refusal answers the text it was given: an edit (or leaving) clears it.
            match key {
                Key::Esc => {
                    self.typing = None;
                    self.refused = None;
                }
                Key::Backspace => {
                    text.pop();
                    self.refused = None;
                }
                Key::Char(c) if time_char(c) && text.chars().count() < TYPED_MAX => {
                    text.push(c);
                    self.refused = None;
                }
                Key::Enter => {
                    let typed = text.clone();
                    return match typed.parse::<RestoreTo>() {
                        Ok(to) => PickerKey::Choose(to, self.listed()),
                        Err(_) => {
                            self.refused = Some(format!(
                                "{} is not a time: type it as {} (UTC)",
                                crate::text::echo(typed.trim()),
                                self.example_time()
                            ));
                            PickerKey::Stay
                        }
                    };
                }
                _ => {}
            }
            return PickerKey::Stay;
        }
        let rows = self.rows().len();
        // A refusal answers the row it was given: moving clears it.
        if matches!(
            key,
            Key::Up | Key::Down | Key::PageUp | Key::PageDown | Key::Home | Key::End
        ) {
            self.refused = None;
        }
        match key {
            Key::Esc => return PickerKey::Close,
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(rows.saturating_sub(1)),
            Key::PageUp => self.selected = self.selected.saturating_sub(10),
            Key::PageDown => self.selected = (self.selected + 10).min(rows.saturating_sub(1)),
            Key::Home => self.selected = 0,
            Key::End => self.selected = rows.saturating_sub(1),
            Key::Char(c) if c.is_ascii_digit() && rows > 0 => {
                self.refused = None;
                self.typing = Some(c.to_string());
            }
            Key::Enter => match self.current() {
                None => {}
                Some(row @ (Row::Window(_) | Row::TypeTime)) => {
                    self.refused = None;
                    let start = match row {
                        Row::Window(i) => self
                            .window_end(i)
                            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                        _ => None,
                    };
                    self.typing = Some(start.unwrap_or_default());
                }
                Some(row) => {
                    if let Some(why) = self.unusable(row) {
                        self.refused = Some(why);
                        return PickerKey::Stay;
                    }
                    if let Some(to) = self.choice(row) {
                        return PickerKey::Choose(to, self.listed());
                    }
                }
            },
            _ => {}
        }
        PickerKey::Stay
    }
}

/// The keys the picker reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Backspace,
    Char(char),
}

impl Key {
    /// A terminal key as the picker reads it (`None`: one it ignores).
    pub fn of(code: ratatui::crossterm::event::KeyCode) -> Option<Key> {
        use ratatui::crossterm::event::KeyCode;
        Some(match code {
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Backspace => Key::Backspace,
            KeyCode::Char(c) => Key::Char(c),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore_points::{BackupPoint, CoverageSource, PitrCoverage, Window};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("t")
            .with_timezone(&Utc)
    }

    fn list() -> RestorePoints {
        let backup = |at: &str, tainted: bool| BackupPoint {
            series: "snap".into(),
            kind: "snapshot".into(),
            name: at.into(),
            time: t(at),
            bytes: Some(1),
            last_verified: None,
            tainted,
            failed: false,
            wal_reach: None,
            wal_complete: None,
        };
        RestorePoints {
            environment: "demo".into(),
            database: "db".into(),
            onset: Some(t("2026-01-01T10:21:00Z")),
            backups: vec![
                backup("2026-01-01T10:30:00Z", true),
                backup("2026-01-01T10:15:00Z", false),
            ],
            pitr: Some(PitrCoverage {
                source: CoverageSource::Simulated,
                archive: "a".into(),
                segments: 0,
                newest_archived: None,
                windows: vec![Window {
                    from: t("2026-01-01T10:15:00Z"),
                    to: t("2026-01-01T10:40:00Z"),
                    base: "b".into(),
                }],
                gaps: Vec::new(),
            }),
            problems: Vec::new(),
        }
    }

    #[test]
    fn rows_choices_and_typing() {
        let mut p = PointPicker::new(3, "db".into(), "snap".into());
        assert!(p.rows().is_empty(), "nothing to choose while loading");
        assert_eq!(p.key(Key::Enter), PickerKey::Stay);
        p.loaded(Ok(list()));
        assert_eq!(
            p.rows(),
            vec![
                Row::BeforeCorruption,
                Row::LatestVerified,
                Row::NewestGood,
                Row::Window(0),
                Row::TypeTime,
                Row::Backup(0),
                Row::Backup(1),
            ]
        );
        // The default is preselected.
        assert_eq!(p.current(), Some(Row::BeforeCorruption));
        p.key(Key::End);
        let PickerKey::Choose(to, listed) = p.key(Key::Enter) else {
            panic!("a backup row chooses its time");
        };
        assert_eq!(to, RestoreTo::At(t("2026-01-01T10:15:00Z")));
        // The tainted backup is not offered to the resolver as a good one.
        assert_eq!(listed.backups, vec![t("2026-01-01T10:15:00Z")]);
        assert_eq!(listed.windows.len(), 1);
        // A window row starts typing at its end; a bad time is refused with the format.
        p.key(Key::Home);
        p.key(Key::Down);
        p.key(Key::Down);
        p.key(Key::Down);
        assert_eq!(p.key(Key::Enter), PickerKey::Stay);
        assert_eq!(p.typing.as_deref(), Some("2026-01-01T10:40:00Z"));
        for _ in 0..4 {
            p.key(Key::Backspace);
        }
        p.key(Key::Char('x'));
        assert_eq!(p.typing.as_deref(), Some("2026-01-01T10:40"));
        assert_eq!(p.key(Key::Enter), PickerKey::Stay);
        // Said as typed, with a time to copy: not the playbook file's `to = ...` wording.
        assert_eq!(
            p.refused.as_deref(),
            Some("\"2026-01-01T10:40\" is not a time: type it as 2026-01-01T10:20:00Z (UTC)")
        );
        // An edit clears the refusal: it answered other text.
        p.key(Key::Char(':'));
        assert_eq!(p.refused, None);
        p.key(Key::Char('0'));
        p.key(Key::Char('5'));
        p.key(Key::Char('Z'));
        assert!(matches!(
            p.key(Key::Enter),
            PickerKey::Choose(RestoreTo::At(a), _) if a == t("2026-01-01T10:40:05Z")
        ));
        // Esc leaves typing, then closes.
        assert_eq!(p.key(Key::Esc), PickerKey::Stay);
        assert_eq!(p.key(Key::Esc), PickerKey::Close);
        // A failed list still offers the named choices and a typed time.
        let mut f = PointPicker::new(3, "db".into(), "snap".into());
        f.loaded(Err("no archive".into()));
        assert_eq!(
            f.rows(),
            vec![
                Row::BeforeCorruption,
                Row::LatestVerified,
                Row::NewestGood,
                Row::TypeTime
            ]
        );
    }

    /// Verified means a restore test passed: the list hands the resolver the backups that
    /// passed and those that failed. A failed attempt and a backup whose restore test failed
    /// are refused as sources in plain words; moving on clears the refusal.
    #[test]
    fn failed_backups_are_refused_and_verification_is_handed_on() {
        let mut l = list();
        let verification = |at: &str, ok: bool| crate::recovery::verified::Verification {
            environment: "demo".into(),
            series: "snap".into(),
            backup: "x".into(),
            at: t(at),
            ok,
            detail: String::new(),
        };
        l.backups[1].last_verified = Some(verification("2026-01-01T10:16:00Z", true));
        let mut failed_test = l.backups[1].clone();
        failed_test.time = t("2026-01-01T10:05:00Z");
        failed_test.name = "snap-1005".into();
        failed_test.last_verified = Some(verification("2026-01-01T10:06:00Z", false));
        let mut failed_attempt = l.backups[1].clone();
        failed_attempt.time = t("2026-01-01T10:00:00Z");
        failed_attempt.name = "snap-1000".into();
        failed_attempt.failed = true;
        failed_attempt.last_verified = None;
        l.backups.push(failed_test);
        l.backups.push(failed_attempt);
        let mut p = PointPicker::new(3, "db".into(), "snap".into());
        p.loaded(Ok(l));
        let listed = p.listed();
        assert_eq!(listed.verified, vec![t("2026-01-01T10:15:00Z")]);
        assert_eq!(listed.failed_verification, vec![t("2026-01-01T10:05:00Z")]);
        // The failed restore test: refused, said plainly.
        p.key(Key::End);
        p.key(Key::Up);
        assert_eq!(p.key(Key::Enter), PickerKey::Stay);
        let why = p.refused.clone().expect("refused");
        assert!(
            why.contains(
                "snap-1005: its restore test FAILED (10:06:00 UTC): restoring from it is refused"
            ),
            "{why}"
        );
        // Moving clears it; the failed attempt has nothing to restore.
        p.key(Key::Down);
        assert_eq!(p.refused, None);
        assert_eq!(p.key(Key::Enter), PickerKey::Stay);
        let why = p.refused.clone().expect("refused");
        assert!(
            why.contains("snap-1000: the backup attempt FAILED"),
            "{why}"
        );
        assert!(why.contains("type 10:00:00"), "{why}");
        // Typing clears it too.
        p.key(Key::Char('2'));
        assert_eq!(p.refused, None);
        // The verified one is chosen as its time.
        p.key(Key::Esc);
        p.key(Key::Home);
        for _ in 0..6 {
            p.key(Key::Down);
        }
        assert!(matches!(
            p.key(Key::Enter),
            PickerKey::Choose(RestoreTo::At(a), _) if a == t("2026-01-01T10:15:00Z")
        ));
    }
}
