//! Bounds the step output waiting for the console. A step can print faster than the console
//! handles lines (`yes | head -c 1G`); every line waiting in the inbox costs memory, and a
//! backlog of millions made the console hold gigabytes and answer keys seconds late. The gate
//! counts the output lines in the inbox; while [`IN_FLIGHT_MAX`] wait, an executor drops further
//! lines and counts them, and the next line it forwards is preceded by a notice saying how many
//! were not shown. The engine keeps and journals a bounded part of what arrives anyway.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Most output lines waiting in the console's inbox, all executors together.
pub const IN_FLIGHT_MAX: usize = 512;

/// Shared by the runner (which counts lines handled) and every executor (which counts lines
/// sent).
#[derive(Debug, Clone, Default)]
pub struct OutputGate {
    in_flight: Arc<AtomicUsize>,
}

impl OutputGate {
    pub fn new() -> Self {
        Self::default()
    }

    /// One executor's side of the gate.
    pub fn valve(&self) -> Valve {
        Valve {
            gate: self.clone(),
            dropped: 0,
        }
    }

    /// One output line was sent around the valve (a built-in action's progress).
    pub fn sent(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    /// The console handled one output line.
    pub fn handled(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Output lines waiting now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

/// One executor's output through the gate.
#[derive(Debug)]
pub struct Valve {
    gate: OutputGate,
    /// Lines dropped since the last one forwarded.
    dropped: u64,
}

impl Valve {
    /// What to forward for `line`: nothing while the inbox is full (the line is counted), else
    /// the notice of what was dropped before it, if anything, and the line.
    pub fn pass(&mut self, line: String) -> Vec<String> {
        if self.gate.in_flight() >= IN_FLIGHT_MAX {
            self.dropped += 1;
            return Vec::new();
        }
        let mut out = Vec::with_capacity(2);
        if let Some(notice) = self.notice() {
            out.push(notice);
        }
        out.push(line);
        self.gate.in_flight.fetch_add(out.len(), Ordering::AcqRel);
        out
    }

    /// When the step ends: the notice for lines dropped since the last one forwarded.
    pub fn finish(&mut self) -> Option<String> {
        let notice = self.notice()?;
        self.gate.in_flight.fetch_add(1, Ordering::AcqRel);
        Some(notice)
    }

    fn notice(&mut self) -> Option<String> {
        let n = std::mem::take(&mut self.dropped);
        (n > 0).then(|| {
            format!(
                "… {} line{} not shown: the step printed faster than the console reads",
                crate::text::thousands(n),
                if n == 1 { "" } else { "s" }
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_inbox_drops_lines_and_says_how_many() {
        let gate = OutputGate::new();
        let mut valve = gate.valve();
        for i in 0..IN_FLIGHT_MAX {
            assert_eq!(valve.pass(format!("l{i}")), [format!("l{i}")]);
        }
        assert_eq!(gate.in_flight(), IN_FLIGHT_MAX);
        // Full: 1,500 lines are counted, not queued.
        for i in 0..1_500 {
            assert!(valve.pass(format!("x{i}")).is_empty());
        }
        assert_eq!(gate.in_flight(), IN_FLIGHT_MAX, "nothing more queued");
        // The console catches up by two lines: the notice, then the line.
        gate.handled();
        gate.handled();
        assert_eq!(
            valve.pass("next".into()),
            [
                "… 1,500 lines not shown: the step printed faster than the console reads"
                    .to_string(),
                "next".to_string()
            ]
        );
        // Dropped at the very end: said when the step finishes.
        assert!(valve.pass("lost".into()).is_empty());
        assert_eq!(
            valve.finish().as_deref(),
            Some("… 1 line not shown: the step printed faster than the console reads")
        );
        assert_eq!(valve.finish(), None);
        for _ in 0..10_000 {
            gate.handled();
        }
        assert_eq!(gate.in_flight(), 0, "never below zero");
    }
}
