//! The session clock: UTC time as the console sees it. On the simulator it can run faster than
//! the wall (`--speed 60`: one simulated minute per second), be paused (`P`) and fast-forwarded
//! (`>`); everywhere else it is the wall clock at speed 1.
//!
//! Only the runtime reads the wall clock; everything it hands on receives `now` as a value.
//!
//! The clock is a shared handle ([`Clone`] is cheap: an `Arc`): the ticker, the pollers, the
//! simulator's action backend, scheduled faults and the effect runner all read the same clock,
//! and a pause or a speed change made by the runner is seen by all of them at once.
//!
//! It is a chain of segments, each starting at a wall instant and a session time and running at
//! a rate (the speed, or 0 while paused). A new segment starts where the previous one reads at
//! that instant, so session time is continuous and never goes backwards; a pause holds it still.
//!
//! The clock also knows the wall-clock UTC of its origin, so the record can carry both times of
//! an event (`Stamp { at: wall, sim: session }`): both are derived from one monotonic
//! [`Instant`], so neither goes backwards within a process (an NTP step does not move them) and
//! they always agree with each other.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// The lowest running speed (a clock at speed 0 would be a pause: use [`SessionClock::pause`]).
pub const MIN_RATE: f64 = 0.01;

/// A piece of the clock: from wall instant `wall` the session time is `session` plus the wall
/// time since, times `rate` (0 while paused).
#[derive(Debug, Clone, Copy)]
struct Segment {
    wall: Instant,
    session: DateTime<Utc>,
    rate: f64,
}

/// The clock's arithmetic, free of any clock read (every instant is given): unit-tested alone.
#[derive(Debug, Clone)]
struct Schedule {
    origin_wall: Instant,
    /// Wall-clock UTC at `origin_wall`.
    wall_utc: DateTime<Utc>,
    /// Never empty; `wall` ascending.
    segments: Vec<Segment>,
    /// The running speed (the rate when not paused).
    speed: f64,
    /// The wall instant the current pause began.
    paused_since: Option<Instant>,
}

fn micros(d: TimeDelta) -> f64 {
    d.num_microseconds().unwrap_or(i64::MAX) as f64
}

fn delta_micros(us: f64) -> TimeDelta {
    // Microsecond precision is plenty; the cast saturates far beyond any session's length.
    TimeDelta::microseconds(us as i64)
}

impl Schedule {
    fn last(&self) -> Segment {
        // `segments` is never empty (built with one, only ever pushed to).
        self.segments[self.segments.len() - 1]
    }

    /// Session time at wall instant `wall` (before the origin: the origin).
    fn at(&self, wall: Instant) -> DateTime<Utc> {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.wall <= wall)
            .copied()
            .unwrap_or(self.segments[0]);
        let elapsed = wall.saturating_duration_since(seg.wall).as_secs_f64() * seg.rate;
        seg.session + delta_micros(elapsed * 1e6)
    }

    /// The wall instant at which the clock read `session`: the last such instant when it read
    /// it for a while (a pause: its end, or `now` while it lasts). Before the origin it
    /// extrapolates at the first segment's rate.
    fn wall_instant(&self, session: DateTime<Utc>, now: Instant) -> Instant {
        let Some(i) = self.segments.iter().rposition(|s| s.session <= session) else {
            // Before the clock's origin: back from the first segment at its rate.
            let first = self.segments[0];
            let back = micros(first.session - session) / 1e6 / first.rate.max(MIN_RATE);
            return first
                .wall
                .checked_sub(Duration::from_secs_f64(back.max(0.0)))
                .unwrap_or(first.wall);
        };
        let seg = self.segments[i];
        if seg.rate > 0.0 {
            let since = micros(session - seg.session) / 1e6 / seg.rate;
            return seg.wall + Duration::from_secs_f64(since.max(0.0));
        }
        self.segments
            .get(i + 1)
            .map_or(now.max(seg.wall), |next| next.wall)
    }

    fn push(&mut self, wall: Instant, rate: f64) -> DateTime<Utc> {
        let wall = wall.max(self.last().wall);
        let session = self.at(wall);
        self.segments.push(Segment {
            wall,
            session,
            rate,
        });
        session
    }
}

/// What a pause, a resume or a speed change did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Session time at the change (the clock reads it before and after).
    pub at: DateTime<Utc>,
    /// The running speed before the change.
    pub from: f64,
    /// The running speed after it.
    pub to: f64,
    /// A resume: how long the pause lasted on the wall.
    pub paused_for: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct SessionClock {
    inner: Arc<Mutex<Schedule>>,
}

impl SessionClock {
    /// A clock that reads `origin_utc` at wall instant `origin_wall` and runs `speed` times faster
    /// than the wall (speed is clamped to at least [`MIN_RATE`]).
    pub fn new(origin_wall: Instant, origin_utc: DateTime<Utc>, speed: f64) -> Self {
        let speed = speed.max(MIN_RATE);
        SessionClock {
            inner: Arc::new(Mutex::new(Schedule {
                origin_wall,
                wall_utc: origin_utc,
                segments: vec![Segment {
                    wall: origin_wall,
                    session: origin_utc,
                    rate: speed,
                }],
                speed,
                paused_since: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Schedule> {
        // The schedule is consistent after every method: a panic elsewhere cannot break it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The same clock, whose origin instant is `wall_utc` on the wall (a drill's simulated time
    /// and the wall part ways once it runs faster, or when a resumed drill continues its
    /// simulated clock).
    pub fn with_wall_origin(self, wall_utc: DateTime<Utc>) -> Self {
        self.lock().wall_utc = wall_utc;
        self
    }

    /// The same clock, paused from its origin, the pause having lasted `already` on the wall
    /// (a drill resumed from a journal that ended paused: the world stays still until the
    /// facilitator resumes it).
    pub fn paused_since(self, already: Duration) -> Self {
        {
            let mut s = self.lock();
            let origin = s.origin_wall;
            s.segments[0].rate = 0.0;
            s.paused_since = Some(origin.checked_sub(already).unwrap_or(origin));
        }
        self
    }

    /// Wall-clock UTC at wall instant `wall`.
    fn utc_of(s: &Schedule, wall: Instant) -> DateTime<Utc> {
        match wall.checked_duration_since(s.origin_wall) {
            Some(d) => s.wall_utc + delta_micros(d.as_secs_f64() * 1e6),
            None => s.wall_utc - delta_micros((s.origin_wall - wall).as_secs_f64() * 1e6),
        }
    }

    /// Wall-clock UTC when the session clock reads `session`: through the speed of the segment
    /// it falls in; a time the clock held during a pause maps to the pause's end (now, while the
    /// pause lasts), so records made during a pause carry the wall time they were made.
    pub fn wall(&self, session: DateTime<Utc>) -> DateTime<Utc> {
        let s = self.lock();
        let wall = s.wall_instant(session, Instant::now());
        Self::utc_of(&s, wall)
    }

    /// Wall-clock UTC now, from the monotonic origin (runtime only).
    pub fn wall_now(&self) -> DateTime<Utc> {
        let s = self.lock();
        Self::utc_of(&s, Instant::now())
    }

    /// A real-time clock starting now.
    pub fn real_time() -> Self {
        Self::new(Instant::now(), Utc::now(), 1.0)
    }

    /// The running speed (what the clock runs at when not paused).
    pub fn speed(&self) -> f64 {
        self.lock().speed
    }

    /// The clock stands still.
    pub fn paused(&self) -> bool {
        self.lock().paused_since.is_some()
    }

    /// Wall time the current pause has lasted at `wall` (`None` when running).
    pub fn paused_for_at(&self, wall: Instant) -> Option<Duration> {
        self.lock()
            .paused_since
            .map(|p| wall.saturating_duration_since(p))
    }

    /// Wall time the current pause has lasted (`None` when running).
    pub fn paused_for(&self) -> Option<Duration> {
        self.paused_for_at(Instant::now())
    }

    /// Session time at wall instant `wall`.
    pub fn at(&self, wall: Instant) -> DateTime<Utc> {
        self.lock().at(wall)
    }

    /// Session time now (reads the wall clock: runtime only).
    pub fn now(&self) -> DateTime<Utc> {
        self.at(Instant::now())
    }

    /// Wall-clock duration until the session clock reads `target` at the current rate: zero
    /// when it already does, `None` while paused (it never will until resumed).
    pub fn wall_until(&self, target: DateTime<Utc>) -> Option<Duration> {
        let s = self.lock();
        let now = s.at(Instant::now());
        if now >= target {
            return Some(Duration::ZERO);
        }
        if s.paused_since.is_some() {
            return None;
        }
        Some(Duration::from_secs_f64(
            (micros(target - now) / 1e6 / s.speed).max(0.0),
        ))
    }

    /// Stops the clock at wall instant `wall`; `None` when it is already paused.
    pub fn pause_at(&self, wall: Instant) -> Option<Change> {
        let mut s = self.lock();
        if s.paused_since.is_some() {
            return None;
        }
        let at = s.push(wall, 0.0);
        s.paused_since = Some(s.last().wall);
        let speed = s.speed;
        Some(Change {
            at,
            from: speed,
            to: speed,
            paused_for: None,
        })
    }

    /// Restarts a paused clock at wall instant `wall`, at its running speed; `None` when it is
    /// not paused.
    pub fn resume_at(&self, wall: Instant) -> Option<Change> {
        let mut s = self.lock();
        let since = s.paused_since?;
        let speed = s.speed;
        let at = s.push(wall, speed);
        s.paused_since = None;
        Some(Change {
            at,
            from: speed,
            to: speed,
            paused_for: Some(s.last().wall.saturating_duration_since(since)),
        })
    }

    /// Runs at `speed` from wall instant `wall` (clamped to at least [`MIN_RATE`]); while paused
    /// the new speed applies from the resume. `None` when the speed does not change.
    pub fn set_speed_at(&self, speed: f64, wall: Instant) -> Option<Change> {
        let speed = speed.max(MIN_RATE);
        let mut s = self.lock();
        let from = s.speed;
        if (from - speed).abs() < f64::EPSILON {
            return None;
        }
        s.speed = speed;
        let at = if s.paused_since.is_some() {
            s.at(wall)
        } else {
            s.push(wall, speed)
        };
        Some(Change {
            at,
            from,
            to: speed,
            paused_for: None,
        })
    }

    /// [`SessionClock::pause_at`] now (runtime only).
    pub fn pause(&self) -> Option<Change> {
        self.pause_at(Instant::now())
    }

    /// [`SessionClock::resume_at`] now (runtime only).
    pub fn resume(&self) -> Option<Change> {
        self.resume_at(Instant::now())
    }

    /// [`SessionClock::set_speed_at`] now (runtime only).
    pub fn set_speed(&self, speed: f64) -> Option<Change> {
        self.set_speed_at(speed, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::Duration;

    fn utc() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
            .single()
            .expect("valid")
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn runs_at_speed() {
        let wall = Instant::now();
        let utc = utc();
        let c = SessionClock::new(wall, utc, 60.0);
        assert_eq!(c.at(wall + secs(2)), utc + TimeDelta::minutes(2));
        assert_eq!(c.at(wall), utc);
        // Before the origin the clock reads its origin (never earlier).
        assert_eq!(c.at(wall.checked_sub(secs(1)).unwrap_or(wall)), utc);
    }

    #[test]
    fn maps_session_time_back_to_the_wall() {
        let wall = Instant::now();
        let sim = utc();
        let real = sim - TimeDelta::hours(5);
        let c = SessionClock::new(wall, sim, 60.0).with_wall_origin(real);
        // Two simulated minutes are two seconds on the wall.
        assert_eq!(
            c.wall(sim + TimeDelta::minutes(2)),
            real + TimeDelta::seconds(2)
        );
        assert_eq!(c.wall(sim), real);
        // Before the origin: extrapolated at the speed.
        assert_eq!(
            c.wall(sim - TimeDelta::minutes(1)),
            real - TimeDelta::seconds(1)
        );
        // Without a wall origin the clock's origin is on the wall (live: speed 1).
        let live = SessionClock::new(wall, real, 1.0);
        assert_eq!(
            live.wall(real + TimeDelta::seconds(7)),
            real + TimeDelta::seconds(7)
        );
    }

    #[test]
    fn a_pause_holds_session_time_still_and_resumes_where_it_stopped() {
        let w = Instant::now();
        let c = SessionClock::new(w, utc(), 1.0);
        let paused = c.pause_at(w + secs(10)).expect("pauses");
        assert_eq!(paused.at, utc() + TimeDelta::seconds(10));
        assert!(c.paused());
        assert!(c.pause_at(w + secs(11)).is_none(), "already paused");
        // Five minutes of wall time pass: the session clock does not move.
        assert_eq!(c.at(w + secs(10)), c.at(w + secs(310)));
        assert_eq!(c.paused_for_at(w + secs(70)), Some(secs(60)));
        let resumed = c.resume_at(w + secs(310)).expect("resumes");
        assert_eq!(resumed.at, utc() + TimeDelta::seconds(10));
        assert_eq!(resumed.paused_for, Some(secs(300)));
        assert!(!c.paused());
        assert!(c.resume_at(w + secs(311)).is_none(), "not paused");
        // Then it runs again from where it stopped.
        assert_eq!(c.at(w + secs(320)), utc() + TimeDelta::seconds(20));
        // Earlier instants still read what they read then.
        assert_eq!(c.at(w + secs(5)), utc() + TimeDelta::seconds(5));
    }

    #[test]
    fn speed_changes_keep_the_clock_continuous() {
        let w = Instant::now();
        let c = SessionClock::new(w, utc(), 1.0);
        let ff = c.set_speed_at(60.0, w + secs(30)).expect("changes");
        assert_eq!((ff.from, ff.to), (1.0, 60.0));
        assert_eq!(ff.at, utc() + TimeDelta::seconds(30));
        // Two wall seconds at 60x: two simulated minutes.
        assert_eq!(
            c.at(w + secs(32)),
            utc() + TimeDelta::seconds(30) + TimeDelta::minutes(2)
        );
        let back = c.set_speed_at(1.0, w + secs(32)).expect("changes");
        assert_eq!((back.from, back.to), (60.0, 1.0));
        assert_eq!(c.at(w + secs(42)), utc() + TimeDelta::seconds(160));
        assert!(c.set_speed_at(1.0, w + secs(43)).is_none(), "same speed");
        assert_eq!(c.speed(), 1.0);
    }

    #[test]
    fn session_time_is_monotonic_through_any_schedule() {
        let w = Instant::now();
        let c = SessionClock::new(w, utc(), 1.0);
        c.set_speed_at(60.0, w + secs(1));
        c.pause_at(w + secs(2));
        // A speed change while paused applies from the resume.
        c.set_speed_at(1.0, w + secs(3));
        assert_eq!(c.at(w + secs(4)), c.at(w + secs(2)));
        c.resume_at(w + secs(5));
        c.set_speed_at(0.5, w + secs(6));
        let mut last = c.at(w);
        for ms in (0..10_000).step_by(50) {
            let now = c.at(w + Duration::from_millis(ms));
            assert!(now >= last, "went back at {ms} ms");
            last = now;
        }
        // 1 s at 1x, 1 s at 60x, paused 2..5, 1 s at 1x, then 0.5x.
        assert_eq!(c.at(w + secs(6)), utc() + TimeDelta::seconds(62));
        assert_eq!(c.at(w + secs(8)), utc() + TimeDelta::seconds(63));
    }

    #[test]
    fn a_paused_time_maps_to_the_end_of_its_pause_on_the_wall() {
        let w = Instant::now();
        let real = utc() - TimeDelta::hours(1);
        let c = SessionClock::new(w, utc(), 1.0).with_wall_origin(real);
        let p = c.pause_at(w + secs(10)).expect("pauses");
        // While the pause lasts, its session time is "now" on the wall.
        let during = c.wall(p.at);
        assert!(during >= real + TimeDelta::seconds(10));
        c.resume_at(w + secs(70));
        // Afterwards it maps to the resume: records made during the pause stay in order.
        assert_eq!(c.wall(p.at), real + TimeDelta::seconds(70));
        assert_eq!(
            c.wall(p.at + TimeDelta::seconds(5)),
            real + TimeDelta::seconds(75)
        );
        assert_eq!(
            c.wall(p.at - TimeDelta::seconds(5)),
            real + TimeDelta::seconds(5)
        );
    }

    #[test]
    fn time_until_a_session_time_follows_the_rate() {
        let w = Instant::now();
        let c = SessionClock::new(w, utc(), 60.0);
        let target = c.now() + TimeDelta::minutes(2);
        let wait = c.wall_until(target).expect("running");
        assert!(
            wait <= secs(2) && wait > Duration::from_millis(1900),
            "{wait:?}"
        );
        c.pause();
        assert_eq!(c.wall_until(target), None, "paused: never");
        assert_eq!(c.wall_until(c.now()), Some(Duration::ZERO));
        c.resume();
        assert!(c.wall_until(target).is_some());
    }

    #[test]
    fn a_clock_can_start_paused() {
        let w = Instant::now();
        let c = SessionClock::new(w, utc(), 60.0).paused_since(secs(30));
        assert!(c.paused());
        assert_eq!(c.at(w + secs(100)), utc());
        let r = c.resume_at(w + secs(100)).expect("resumes");
        // The pause began 30 s before the origin.
        assert_eq!(r.paused_for, Some(secs(130)));
        assert_eq!(c.at(w + secs(101)), utc() + TimeDelta::minutes(1));
    }

    #[test]
    fn clones_share_one_clock() {
        let c = SessionClock::real_time();
        let other = c.clone();
        c.pause();
        assert!(other.paused());
    }
}
