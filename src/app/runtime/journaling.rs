//! Who runs this console and how its incidents are journaled: the identity, the journal
//! settings, a new incident's header and journal.

use color_eyre::eyre::Result;

use crate::app::journal_writer::{JournalTarget, Stamp};

/// Journal events with their stamps.
pub type Records = Vec<(Stamp, crate::playbook::Event)>;

/// Who runs this console: the journal header, `confirmed.by`, `resumed` and the lock name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub operator: String,
    pub host: String,
    pub pid: u32,
}

/// How the runtime journals incidents.
pub struct JournalSettings {
    /// Where the journal of an incident picked in the console goes.
    pub target: JournalTarget,
    pub identity: Identity,
    /// Simulator seed, recorded in the header of simulated sessions.
    pub seed: Option<u64>,
    /// The journal of the incident the console starts with (a drill's, created before the
    /// terminal was taken; a resumed one), with the records to append first.
    pub opened: Option<(crate::journal::Journal, Records)>,
    /// The last recorded stamp (a resumed journal's last event): no record goes before it.
    pub floor: Option<Stamp>,
}

/// The header of a new incident's journal: the playbook and settings of `engine` (read-only
/// included: it stays with the incident), who runs it, the simulator's seed, speed and simulated
/// time (simulated sessions), and `started`: when it starts on the wall clock and in session
/// time.
pub fn incident_header(
    engine: &crate::playbook::Engine,
    mode: crate::app::Mode,
    who: &Identity,
    simulator: Option<(u64, f64)>,
    started: Stamp,
) -> crate::journal::Header {
    let mode = match mode {
        crate::app::Mode::Demo => crate::journal::Mode::Demo,
        crate::app::Mode::Drill => crate::journal::Mode::Drill,
        crate::app::Mode::Live => crate::journal::Mode::Live,
    };
    let mut header = crate::journal::Header::new(
        engine.playbook(),
        engine.settings(),
        mode,
        who.operator.clone(),
        started.at,
    )
    .read_only(engine.settings().read_only);
    if let Some((seed, speed)) = simulator {
        header = header.simulator(seed, speed);
    }
    if let Some(sim) = started.sim {
        header = header.sim_started_at(sim);
    }
    header
}

/// Creates (and locks) a new incident's journal with its header, fsynced: before the incident
/// can record anything, so a journal that cannot be created stops it before it starts.
pub fn create_journal(
    target: &JournalTarget,
    header: &crate::journal::Header,
    _who: &Identity,
) -> Result<crate::journal::Journal, crate::journal::JournalError> {
    match target {
        JournalTarget::File(path) => crate::journal::Journal::create(path, header),
        JournalTarget::Dir(dir) => crate::journal::Journal::create_in(dir, header),
    }
}
