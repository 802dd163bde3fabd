//! School time: the school's time zone, its working days (the production calendar) and its
//! quiet hours, for everything the bot schedules (reminders, teacher notifications).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::calendar::ProductionCalendar;

/// Teachers are not notified from this hour…
pub const QUIET_FROM: u32 = 21;
/// …until this one.
pub const QUIET_UNTIL: u32 = 8;
/// The time zone of Orenburg, the default school time.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Yekaterinburg;

#[derive(Debug, Clone)]
pub struct SchoolTime {
    pub zone: Tz,
    /// `None` only if the embedded calendar failed to load: then Monday to Friday count.
    calendar: Option<ProductionCalendar>,
}

impl Default for SchoolTime {
    fn default() -> Self {
        Self::new(DEFAULT_TIME_ZONE)
    }
}

impl SchoolTime {
    /// The school's calendar day at `at`: the day a turn is counted on.
    pub fn day_of(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// The school's time in `zone`, with the embedded production calendar.
    pub fn new(zone: Tz) -> Self {
        Self {
            zone,
            calendar: ProductionCalendar::embedded().ok(),
        }
    }

    /// The school's date at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.zone).date_naive()
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match &self.calendar {
            Some(c) => c.is_working_day(date),
            None => date.weekday().num_days_from_monday() < 5,
        }
    }

    /// `n` working days after `from`; past the calendar's years Monday to Friday count (and the
    /// calendar's own answer is used wherever it has one).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        if let Some(due) = self
            .calendar
            .as_ref()
            .and_then(|c| c.add_working_days(from, n).ok())
        {
            return due;
        }
        let mut date = from;
        let mut left = n;
        while left > 0 {
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// `date` at `hour`:00 school time, as an instant.
    pub fn at(&self, date: NaiveDate, hour: u32) -> DateTime<Utc> {
        self.at_time(
            date,
            NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or_default(),
        )
    }

    /// `date` at `time` school time, as an instant.
    pub fn at_time(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }

    /// Whether teachers are left alone at `now` (21:00–08:00 school time).
    pub fn is_quiet(&self, now: DateTime<Utc>) -> bool {
        let hour = now.with_timezone(&self.zone).hour();
        !(QUIET_UNTIL..QUIET_FROM).contains(&hour)
    }

    /// `now`, or the end of the quiet hours if `now` is in them.
    pub fn outside_quiet_hours(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if !self.is_quiet(now) {
            return now;
        }
        let local = now.with_timezone(&self.zone);
        let day = if local.hour() >= QUIET_FROM {
            local.date_naive() + Duration::days(1)
        } else {
            local.date_naive()
        };
        self.at(day, QUIET_UNTIL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("an RFC 3339 time")
    }

    #[test]
    fn quiet_hours_follow_the_schools_clock() {
        let school = SchoolTime::default(); // UTC+5
        assert!(!school.is_quiet(utc("2026-09-07T15:59:00Z"))); // 20:59 there
        assert!(school.is_quiet(utc("2026-09-07T16:00:00Z"))); // 21:00
        assert!(school.is_quiet(utc("2026-09-07T02:59:00Z"))); // 07:59
        assert!(!school.is_quiet(utc("2026-09-07T03:00:00Z"))); // 08:00
    }

    #[test]
    fn a_notification_at_night_waits_for_eight_in_the_morning() {
        let school = SchoolTime::default();
        assert_eq!(
            school.outside_quiet_hours(utc("2026-09-07T17:30:00Z")), // 22:30
            utc("2026-09-08T03:00:00Z")                              // 08:00 next day
        );
        assert_eq!(
            school.outside_quiet_hours(utc("2026-09-07T20:00:00Z")), // 01:00
            utc("2026-09-08T03:00:00Z")
        );
        let day = utc("2026-09-07T08:00:00Z");
        assert_eq!(school.outside_quiet_hours(day), day);
    }

    #[test]
    fn working_days_skip_the_new_year_holidays() {
        let school = SchoolTime::default();
        let from = NaiveDate::from_ymd_opt(2025, 12, 29).expect("a date");
        assert_eq!(
            school.add_working_days(from, 5),
            NaiveDate::from_ymd_opt(2026, 1, 15).expect("a date")
        );
    }
}
