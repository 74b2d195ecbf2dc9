//! Recovery points: what a database can be restored to (backups and the point-in-time window
//! of its WAL archive), and restoring it to a chosen point.

pub mod postgres;
pub mod verified;
