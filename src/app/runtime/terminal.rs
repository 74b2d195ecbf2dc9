//! The terminal: raw mode and the alternate screen, entered once and restored on every way out
//! (drop, error, panic).

use std::io::Stdout;
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::{Result, WrapErr};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// Whether the terminal is in raw mode / the alternate screen, for the panic hook.
static TERMINAL_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Leaves raw mode and the alternate screen if this process entered them. Safe to call twice.
pub fn restore_terminal() {
    if TERMINAL_ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(
            std::io::stdout(),
            LeaveAlternateScreen,
            ratatui::crossterm::cursor::Show
        );
    }
}

/// Installs a panic hook that restores the terminal before the report prints when the UI thread
/// panics. A panic on another thread (a poller task) is logged instead of printed, because
/// printing would scribble over the live screen; the poller's pane goes stale with the message.
/// Call after `color_eyre::install()` (so its report is the one printed) and before any terminal
/// setup.
pub fn install_panic_hook() {
    let ui_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread || !TERMINAL_ACTIVE.load(Ordering::SeqCst) {
            restore_terminal();
            previous(info);
        } else {
            tracing::error!("panic in a background task: {info}");
        }
    }));
}

/// Owns the terminal for the loop's lifetime; restores it when dropped (error paths included).
pub(super) struct TerminalGuard {
    pub(super) terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    pub(super) fn enter() -> Result<Self> {
        enable_raw_mode()
            .wrap_err("cannot switch the terminal to raw mode (is stdin a terminal?)")?;
        TERMINAL_ACTIVE.store(true, Ordering::SeqCst);
        execute!(std::io::stdout(), EnterAlternateScreen)
            .wrap_err("cannot enter the alternate screen")?;
        let terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
            .wrap_err("cannot set up the terminal")?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}
