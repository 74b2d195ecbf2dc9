//! A small multi-line text editor for the message a notify step sends (`e` in its
//! confirmation): arrows move, Backspace/Delete erase, Enter breaks the line, Ctrl-S saves, Esc
//! cancels. The terminal stays the console's: no external `$EDITOR`.
//!
//! Pure state: keys in, text out; [`crate::ui::editor`] draws it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key did to the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorOutcome {
    /// Still editing.
    Editing,
    /// Ctrl-S: send this text instead.
    Save(String),
    /// Esc: keep the message as it was.
    Cancel,
}

/// The message being edited: lines of characters and a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEditor {
    /// The step whose message this is.
    pub step: usize,
    lines: Vec<Vec<char>>,
    /// Cursor: line and character within it.
    row: usize,
    col: usize,
}

impl MessageEditor {
    /// Prefilled with `text` (lines split at `\n`), the cursor at its end.
    pub fn new(step: usize, text: &str) -> MessageEditor {
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines: Vec<Vec<char>> = body.split('\n').map(|l| l.chars().collect()).collect();
        let row = lines.len() - 1;
        let col = lines[row].len();
        MessageEditor {
            step,
            lines,
            row,
            col,
        }
    }

    /// The text as it would be sent: lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.lines.iter().map(|l| l.iter().collect())
    }

    /// `(line, character)` of the cursor.
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    pub fn key(&mut self, key: KeyEvent) -> EditorOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return EditorOutcome::Cancel,
            KeyCode::Char('s' | 'S') if ctrl => return EditorOutcome::Save(self.text()),
            KeyCode::Char(_) if ctrl => {}
            KeyCode::Char(c) if !c.is_control() => {
                self.lines[self.row].insert(self.col, c);
                self.col += 1;
            }
            KeyCode::Enter => {
                let rest = self.lines[self.row].split_off(self.col);
                self.lines.insert(self.row + 1, rest);
                self.row += 1;
                self.col = 0;
            }
            KeyCode::Backspace => {
                if self.col > 0 {
                    self.col -= 1;
                    self.lines[self.row].remove(self.col);
                } else if self.row > 0 {
                    let line = self.lines.remove(self.row);
                    self.row -= 1;
                    self.col = self.lines[self.row].len();
                    self.lines[self.row].extend(line);
                }
            }
            KeyCode::Delete => {
                if self.col < self.lines[self.row].len() {
                    self.lines[self.row].remove(self.col);
                } else if self.row + 1 < self.lines.len() {
                    let next = self.lines.remove(self.row + 1);
                    self.lines[self.row].extend(next);
                }
            }
            KeyCode::Left => {
                if self.col > 0 {
                    self.col -= 1;
                } else if self.row > 0 {
                    self.row -= 1;
                    self.col = self.lines[self.row].len();
                }
            }
            KeyCode::Right => {
                if self.col < self.lines[self.row].len() {
                    self.col += 1;
                } else if self.row + 1 < self.lines.len() {
                    self.row += 1;
                    self.col = 0;
                }
            }
            KeyCode::Up if self.row > 0 => {
                self.row -= 1;
                self.col = self.col.min(self.lines[self.row].len());
            }
            KeyCode::Down if self.row + 1 < self.lines.len() => {
                self.row += 1;
                self.col = self.col.min(self.lines[self.row].len());
            }
            KeyCode::Home => self.col = 0,
            KeyCode::End => self.col = self.lines[self.row].len(),
            _ => {}
        }
        EditorOutcome::Editing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(e: &mut MessageEditor, code: KeyCode) -> EditorOutcome {
        e.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn typed(e: &mut MessageEditor, s: &str) {
        for c in s.chars() {
            press(e, KeyCode::Char(c));
        }
    }

    #[test]
    fn prefilled_lines_are_edited_and_saved() {
        let mut e = MessageEditor::new(3, "[DRILL] one\ntwo\n");
        assert_eq!(e.lines().collect::<Vec<_>>(), ["[DRILL] one", "two"]);
        assert_eq!(e.cursor(), (1, 3));
        press(&mut e, KeyCode::Enter);
        typed(&mut e, "three");
        press(&mut e, KeyCode::Up);
        press(&mut e, KeyCode::Up);
        press(&mut e, KeyCode::End);
        press(&mut e, KeyCode::Backspace);
        typed(&mut e, "E!");
        let save = e.key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        assert_eq!(save, EditorOutcome::Save("[DRILL] onE!\ntwo\nthree".into()));
    }

    #[test]
    fn backspace_and_delete_join_lines_and_esc_cancels() {
        let mut e = MessageEditor::new(0, "ab\ncd");
        press(&mut e, KeyCode::Home);
        press(&mut e, KeyCode::Backspace);
        assert_eq!(e.text(), "abcd");
        assert_eq!(e.cursor(), (0, 2));
        press(&mut e, KeyCode::Enter);
        press(&mut e, KeyCode::Left);
        press(&mut e, KeyCode::Delete);
        assert_eq!(e.text(), "abcd");
        assert_eq!(e.cursor(), (0, 2));
        press(&mut e, KeyCode::Right);
        press(&mut e, KeyCode::Right);
        // At the end of the last line it stays.
        press(&mut e, KeyCode::Right);
        assert_eq!(e.cursor(), (0, 4));
        assert_eq!(press(&mut e, KeyCode::Esc), EditorOutcome::Cancel);
    }
}
