//! The four DR scenarios as injectable faults, with the text form the CLI and menus use.

use std::fmt;
use std::str::FromStr;

use super::SimError;

/// Something that goes wrong in the simulated deployment, one per DR scenario.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fault {
    /// One availability zone goes down; `None` picks the zone hosting the primary database.
    AzLoss {
        /// The zone id (`us-west-2b`).
        zone: Option<String>,
    },
    /// Every zone of the primary region goes down.
    RegionLoss,
    /// The primary's data goes bad from the injection time on (integrity checks fail).
    Corruption,
    /// Credential stuffing and unusual access in the primary region.
    Breach,
}

impl Fault {
    /// Every fault in its default form, in menu order.
    pub const ALL: [Fault; 4] = [
        Fault::AzLoss { zone: None },
        Fault::RegionLoss,
        Fault::Corruption,
        Fault::Breach,
    ];

    /// The scenario id (`az-loss`, ...), matching the playbooks' `scenario` field.
    pub fn scenario(&self) -> &'static str {
        match self {
            Fault::AzLoss { .. } => "az-loss",
            Fault::RegionLoss => "region-loss",
            Fault::Corruption => "corruption",
            Fault::Breach => "breach",
        }
    }

    /// One line for a menu.
    pub fn summary(&self) -> &'static str {
        match self {
            Fault::AzLoss { .. } => {
                "one availability zone of the primary region goes down (Multi-AZ failover)"
            }
            Fault::RegionLoss => "the whole primary region goes down",
            Fault::Corruption => "the primary's data goes bad; later backups are tainted",
            Fault::Breach => "failed logins spike and unusual access shows in the primary region",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::AzLoss { zone: Some(z) } => write!(f, "az-loss:{z}"),
            other => f.write_str(other.scenario()),
        }
    }
}

impl FromStr for Fault {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || SimError::UnknownFault {
            input: s.to_string(),
        };
        match s {
            "az-loss" => Ok(Fault::AzLoss { zone: None }),
            "region-loss" => Ok(Fault::RegionLoss),
            "corruption" => Ok(Fault::Corruption),
            "breach" => Ok(Fault::Breach),
            _ => match s.strip_prefix("az-loss:") {
                Some(zone) if !zone.trim().is_empty() => Ok(Fault::AzLoss {
                    zone: Some(zone.trim().to_string()),
                }),
                _ => Err(bad()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for text in [
            "az-loss",
            "az-loss:us-west-2b",
            "region-loss",
            "corruption",
            "breach",
        ] {
            let f: Fault = text.parse().expect(text);
            assert_eq!(f.to_string(), text);
        }
        assert_eq!(Fault::ALL.len(), 4);
        for f in &Fault::ALL {
            assert_eq!(f.to_string().parse::<Fault>().as_ref(), Ok(f));
        }
    }

    #[test]
    fn bad_text_names_itself() {
        for bad in ["az-loss:", "az", "regionloss", ""] {
            let e = bad.parse::<Fault>().expect_err(bad);
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
            assert!(e.to_string().contains("region-loss"), "{e}");
        }
    }
}
