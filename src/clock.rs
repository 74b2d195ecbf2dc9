//! The session clock: UTC time as the console sees it. On the simulator it can run faster than
//! the wall (`--speed 60`: one simulated minute per second); everywhere else speed is 1.
//!
//! Only the runtime reads the wall clock; everything it hands on receives `now` as a value.
//!
//! The clock also knows the wall-clock UTC of its origin, so the record can carry both times of
//! an event (`Stamp { at: wall, sim: session }`): both are derived from one monotonic
//! [`Instant`], so neither goes backwards within a process (an NTP step does not move them) and
//! they always agree with each other.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Copy)]
pub struct SessionClock {
    origin_wall: Instant,
    origin_utc: DateTime<Utc>,
    /// Wall-clock UTC at `origin_wall` (equal to `origin_utc` unless set).
    wall_utc: DateTime<Utc>,
    speed: f64,
}

impl SessionClock {
    /// A clock that reads `origin_utc` at wall instant `origin_wall` and runs `speed` times faster
    /// than the wall (speed is clamped to at least 0.01).
    pub fn new(origin_wall: Instant, origin_utc: DateTime<Utc>, speed: f64) -> Self {
        SessionClock {
            origin_wall,
            origin_utc,
            wall_utc: origin_utc,
            speed: speed.max(0.01),
        }
    }

    /// The same clock, whose origin instant is `wall_utc` on the wall (a drill's simulated time
    /// and the wall part ways once it runs faster, or when a resumed drill continues its
    /// simulated clock).
    pub fn with_wall_origin(mut self, wall_utc: DateTime<Utc>) -> Self {
        self.wall_utc = wall_utc;
        self
    }

    /// Wall-clock UTC when the session clock reads `session`: the wall origin plus the session
    /// time elapsed since the origin divided by the speed.
    pub fn wall(&self, session: DateTime<Utc>) -> DateTime<Utc> {
        let since = (session - self.origin_utc)
            .num_microseconds()
            .unwrap_or(i64::MAX) as f64;
        self.wall_utc + TimeDelta::microseconds((since / self.speed) as i64)
    }

    /// Wall-clock UTC now, from the monotonic origin (runtime only).
    pub fn wall_now(&self) -> DateTime<Utc> {
        self.wall(self.now())
    }

    /// A real-time clock starting now.
    pub fn real_time() -> Self {
        Self::new(Instant::now(), Utc::now(), 1.0)
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Session time at wall instant `wall`.
    pub fn at(&self, wall: Instant) -> DateTime<Utc> {
        let elapsed = wall
            .saturating_duration_since(self.origin_wall)
            .as_secs_f64()
            * self.speed;
        // Microsecond precision is plenty; the cast saturates far beyond any session's length.
        self.origin_utc + TimeDelta::microseconds((elapsed * 1e6) as i64)
    }

    /// Session time now (reads the wall clock: runtime only).
    pub fn now(&self) -> DateTime<Utc> {
        self.at(Instant::now())
    }

    /// Wall-clock duration that spans `session` seconds of session time.
    pub fn wall_for(&self, session_secs: f64) -> std::time::Duration {
        std::time::Duration::from_secs_f64((session_secs / self.speed).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::Duration;

    #[test]
    fn runs_at_speed() {
        let wall = Instant::now();
        let utc = Utc
            .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
            .single()
            .expect("valid");
        let c = SessionClock::new(wall, utc, 60.0);
        assert_eq!(
            c.at(wall + Duration::from_secs(2)),
            utc + TimeDelta::minutes(2)
        );
        assert_eq!(c.at(wall), utc);
        assert_eq!(c.wall_for(120.0), Duration::from_secs(2));
    }

    #[test]
    fn maps_session_time_back_to_the_wall() {
        let wall = Instant::now();
        let sim = Utc
            .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
            .single()
            .expect("valid");
        let real = sim - TimeDelta::hours(5);
        let c = SessionClock::new(wall, sim, 60.0).with_wall_origin(real);
        // Two simulated minutes are two seconds on the wall.
        assert_eq!(
            c.wall(sim + TimeDelta::minutes(2)),
            real + TimeDelta::seconds(2)
        );
        assert_eq!(c.wall(sim), real);
        // Without a wall origin the clock's origin is on the wall (live: speed 1).
        let live = SessionClock::new(wall, real, 1.0);
        assert_eq!(
            live.wall(real + TimeDelta::seconds(7)),
            real + TimeDelta::seconds(7)
        );
    }
}
