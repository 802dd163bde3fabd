//! The Russian production calendar (производственный календарь) as data, and working-day
//! arithmetic on it.
//!
//! The regional instruction says: «Заявление рассматривается образовательной организацией в
//! течение 5 рабочих дней». The bot tells the parent the date by which the decision is due
//! ([`ProductionCalendar::add_working_days`]) and reminds them on that date.
//!
//! Working days are those of the five-day week: Monday to Friday, minus the non-working
//! holidays and the days off moved onto weekdays, plus the Saturdays and Sundays made working
//! by a transfer. The data lives in `calendar/ru.toml`, one table per year, each following
//! that year's government decree; [`ProductionCalendar::embedded`] compiles it into the
//! binary. Beyond the years it lists the calendar cannot know the days off, so the arithmetic
//! fails with [`CalendarError::NotCovered`] rather than guess.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

/// `calendar/ru.toml`, compiled in.
const EMBEDDED: &str = include_str!("../calendar/ru.toml");

/// Why a calendar could not be loaded, or a date could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, or not the expected shape (an unknown key, a malformed date…).
    #[error("production calendar: {0}")]
    Syntax(Box<toml::de::Error>),
    #[error("production calendar: `{0}` is not a year")]
    BadYear(String),
    #[error("production calendar: no years are listed")]
    Empty,
    #[error("production calendar: {date} is listed under year {year}")]
    OutsideYear { year: i32, date: NaiveDate },
    #[error("production calendar: {date} is listed twice in `{list}` of {year}")]
    Duplicate {
        year: i32,
        list: &'static str,
        date: NaiveDate,
    },
    #[error("production calendar: {date} is a working weekend but falls on a {weekday}")]
    NotAWeekend { date: NaiveDate, weekday: Weekday },
    #[error("production calendar: {date} is both a holiday and a working weekend")]
    HolidayAndWorking { date: NaiveDate },
    /// The arithmetic reached a date whose year the calendar does not list.
    #[error("the production calendar does not cover {date}; add its year to calendar/ru.toml")]
    NotCovered { date: NaiveDate },
}

impl From<toml::de::Error> for CalendarError {
    fn from(error: toml::de::Error) -> Self {
        Self::Syntax(Box::new(error))
    }
}

/// The file's shape: `[years.2025]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    years: BTreeMap<String, RawYear>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    source: String,
    #[serde(default)]
    provisional: bool,
    holidays: Vec<NaiveDate>,
    #[serde(default)]
    working_weekends: Vec<NaiveDate>,
}

/// One year of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Year {
    source: String,
    provisional: bool,
    holidays: BTreeSet<NaiveDate>,
    working_weekends: BTreeSet<NaiveDate>,
}

/// The non-working and the extra working days of the years it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionCalendar {
    years: BTreeMap<i32, Year>,
}

impl ProductionCalendar {
    /// The calendar compiled into the binary from `calendar/ru.toml`.
    pub fn embedded() -> Result<Self, CalendarError> {
        Self::from_toml(EMBEDDED)
    }

    /// Reads and checks a calendar file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CalendarError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parses and checks a calendar: unknown keys, dates outside their year, a "working
    /// weekend" on a weekday, a date both a holiday and a working weekend, and duplicates are
    /// all refused.
    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        let raw: RawCalendar = toml::from_str(text)?;
        if raw.years.is_empty() {
            return Err(CalendarError::Empty);
        }
        let mut years = BTreeMap::new();
        for (key, raw_year) in raw.years {
            let year = parse_year(&key)?;
            years.insert(year, check_year(year, raw_year)?);
        }
        Ok(Self { years })
    }

    /// The years covered, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether the calendar knows the days off of `date`'s year.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains_key(&date.year())
    }

    /// The legal act a year follows, as written in the file.
    pub fn source(&self, year: i32) -> Option<&str> {
        self.years.get(&year).map(|y| y.source.as_str())
    }

    /// Whether a year is derived from the Labour Code alone, before its decree on transfers:
    /// its days off may still change. False for years not covered.
    pub fn is_provisional(&self, year: i32) -> bool {
        self.years.get(&year).is_some_and(|y| y.provisional)
    }

    /// Monday to Friday unless a holiday; Saturday and Sunday only if listed as working.
    ///
    /// For a date the calendar does not [cover](Self::covers) this is the plain Monday-to-Friday
    /// answer; callers that need certainty check `covers` first.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.years.get(&date.year()) {
            Some(year) if year.holidays.contains(&date) => false,
            Some(year) if year.working_weekends.contains(&date) => true,
            _ => !is_weekend(date),
        }
    }

    /// The date `n` working days after `from`, not counting `from` itself: the deadline of
    /// "within `n` working days" for something submitted on `from`. `n = 0` gives `from`.
    ///
    /// Fails with [`CalendarError::NotCovered`] as soon as the count needs a day of a year the
    /// calendar does not list.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = from;
        let mut left = n;
        while left > 0 {
            date = self.next_covered(date)?;
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// How many working days lie in `(from, to]`: 0 when `to <= from`. Fails with
    /// [`CalendarError::NotCovered`] if a day of that span is not covered.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut date = from;
        while date < to {
            date = self.next_covered(date)?;
            if self.is_working_day(date) {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The day after `date`, if the calendar covers it.
    fn next_covered(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        match date.succ_opt() {
            Some(next) if self.covers(next) => Ok(next),
            Some(next) => Err(CalendarError::NotCovered { date: next }),
            None => Err(CalendarError::NotCovered { date }),
        }
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A table key such as `2025`, written canonically and within chrono's range.
fn parse_year(key: &str) -> Result<i32, CalendarError> {
    key.parse::<i32>()
        .ok()
        .filter(|year| year.to_string() == key && NaiveDate::from_ymd_opt(*year, 1, 1).is_some())
        .ok_or_else(|| CalendarError::BadYear(key.to_owned()))
}

fn check_year(year: i32, raw: RawYear) -> Result<Year, CalendarError> {
    let holidays = collect(year, "holidays", raw.holidays)?;
    let working_weekends = collect(year, "working_weekends", raw.working_weekends)?;
    for &date in &working_weekends {
        if !is_weekend(date) {
            return Err(CalendarError::NotAWeekend {
                date,
                weekday: date.weekday(),
            });
        }
        if holidays.contains(&date) {
            return Err(CalendarError::HolidayAndWorking { date });
        }
    }
    Ok(Year {
        source: raw.source,
        provisional: raw.provisional,
        holidays,
        working_weekends,
    })
}

/// The dates of one list, each inside `year` and listed once.
fn collect(
    year: i32,
    list: &'static str,
    dates: Vec<NaiveDate>,
) -> Result<BTreeSet<NaiveDate>, CalendarError> {
    let mut set = BTreeSet::new();
    for date in dates {
        if date.year() != year {
            return Err(CalendarError::OutsideYear { year, date });
        }
        if !set.insert(date) {
            return Err(CalendarError::Duplicate { year, list, date });
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
    }

    fn calendar() -> ProductionCalendar {
        ProductionCalendar::embedded().expect("calendar/ru.toml parses")
    }

    fn working_days_in(calendar: &ProductionCalendar, year: i32) -> usize {
        d(year, 1, 1)
            .iter_days()
            .take_while(|date| date.year() == year)
            .filter(|&date| calendar.is_working_day(date))
            .count()
    }

    #[test]
    fn the_embedded_file_parses_and_covers_2025_to_2027() {
        let calendar = calendar();
        assert_eq!(calendar.years().collect::<Vec<_>>(), vec![2025, 2026, 2027]);
        assert!(calendar.covers(d(2025, 1, 1)));
        assert!(calendar.covers(d(2027, 12, 31)));
        assert!(!calendar.covers(d(2024, 12, 31)));
        assert!(!calendar.covers(d(2028, 1, 1)));
        assert!(calendar.source(2025).is_some_and(|s| s.contains("№ 1335")));
        assert!(calendar.source(2026).is_some_and(|s| s.contains("№ 1466")));
        assert!(!calendar.is_provisional(2025));
        assert!(!calendar.is_provisional(2026));
        assert!(calendar.is_provisional(2027));
    }

    #[test]
    fn the_file_on_disk_is_the_embedded_one() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("calendar/ru.toml");
        let loaded = ProductionCalendar::load(path).expect("calendar/ru.toml loads");
        assert_eq!(loaded, calendar());
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let error = ProductionCalendar::load("/nonexistent/calendar.toml").unwrap_err();
        assert!(matches!(error, CalendarError::Read { .. }), "{error}");
    }

    /// The published totals of the official calendars: 247 working days (118 days off) in
    /// both 2025 and 2026. 2027 is derived by rule, before its decree: 261 weekdays minus 12
    /// weekday days off = 249; the decree will likely move Sat 2 / Sun 3 January onto two
    /// weekdays, giving 247.
    #[test]
    fn yearly_totals_match_the_published_calendars() {
        let calendar = calendar();
        assert_eq!(working_days_in(&calendar, 2025), 247);
        assert_eq!(working_days_in(&calendar, 2026), 247);
        assert_eq!(working_days_in(&calendar, 2027), 249);
    }

    #[test]
    fn monthly_totals_of_2025_match_the_published_calendar() {
        let calendar = calendar();
        let in_month = |month: u32| {
            d(2025, month, 1)
                .iter_days()
                .take_while(|date| date.month() == month)
                .filter(|&date| calendar.is_working_day(date))
                .count()
        };
        // January 17, February 20, November 19 (with its working Saturday).
        assert_eq!(in_month(1), 17);
        assert_eq!(in_month(2), 20);
        assert_eq!(in_month(11), 19);
    }

    #[test]
    fn the_days_the_decrees_moved_are_where_they_were_moved() {
        let calendar = calendar();
        // 2025, № 1335: 23 Feb (Sun) → 8 May, 8 Mar (Sat) → 13 Jun, so the Mondays after stay
        // working; 4 Jan → 2 May, 5 Jan → 31 Dec; 1 Nov (Sat) → 3 Nov.
        for date in [
            d(2025, 2, 24),
            d(2025, 3, 10),
            d(2025, 11, 1),
            d(2025, 5, 12),
        ] {
            assert!(calendar.is_working_day(date), "{date} should be working");
        }
        for date in [
            d(2025, 5, 2),
            d(2025, 5, 8),
            d(2025, 6, 13),
            d(2025, 11, 3),
            d(2025, 12, 31),
        ] {
            assert!(!calendar.is_working_day(date), "{date} should be a day off");
        }
        // 2026, № 1466: 3 Jan → 9 Jan, 4 Jan → 31 Dec; 8 Mar (Sun) → 9 Mar, 9 May (Sat) → 11 May.
        for date in [
            d(2026, 1, 9),
            d(2026, 3, 9),
            d(2026, 5, 11),
            d(2026, 12, 31),
        ] {
            assert!(!calendar.is_working_day(date), "{date} should be a day off");
        }
        assert!(calendar.is_working_day(d(2026, 1, 12)));
    }

    #[test]
    fn weekends_are_skipped() {
        let calendar = calendar();
        assert!(!calendar.is_working_day(d(2025, 10, 4))); // Saturday
        assert!(!calendar.is_working_day(d(2025, 10, 5))); // Sunday

        // Thursday 2025-10-02: Fri 3, (Sat 4, Sun 5), Mon 6, Tue 7, Wed 8, Thu 9.
        assert_eq!(
            calendar.add_working_days(d(2025, 10, 2), 5).unwrap(),
            d(2025, 10, 9)
        );
        // Submitted on a Saturday: counting starts on Monday.
        assert_eq!(
            calendar.add_working_days(d(2025, 10, 4), 5).unwrap(),
            d(2025, 10, 10)
        );
    }

    /// Monday 2025-12-29 + 5: Tue 30 Dec is day 1; Wed 31 Dec 2025 is a day off (moved from
    /// 5 Jan 2025), and 1–11 Jan 2026 are the New Year holidays (1–8 Jan, 9 Jan moved from
    /// Sat 3 Jan, then the weekend); Mon 12 Jan is day 2, Tue 13 day 3, Wed 14 day 4, and
    /// Thu 15 January 2026 day 5.
    #[test]
    fn the_new_year_holidays_are_skipped() {
        let calendar = calendar();
        assert_eq!(
            calendar.add_working_days(d(2025, 12, 29), 5).unwrap(),
            d(2026, 1, 15)
        );
        assert_eq!(
            calendar
                .working_days_between(d(2025, 12, 29), d(2026, 1, 15))
                .unwrap(),
            5
        );
    }

    /// Friday 2026-12-25 + 5: Mon 28, Tue 29, Wed 30 Dec are days 1–3; Thu 31 Dec is a day off
    /// (moved from 4 Jan 2026); 1–10 Jan 2027 are off (holidays, then the weekend); Mon 11 Jan
    /// is day 4 and Tue 12 January 2027 day 5. (2027 is provisional: its decree may move
    /// Sat 2 / Sun 3 January onto a weekday in this span.)
    #[test]
    fn a_deadline_can_cross_into_the_next_year() {
        assert_eq!(
            calendar().add_working_days(d(2026, 12, 25), 5).unwrap(),
            d(2027, 1, 12)
        );
    }

    /// Wednesday 2026-04-29 + 5: Thu 30 Apr is day 1; Fri 1 May is a holiday, then the weekend;
    /// Mon 4 to Thu 7 May are days 2–5.
    #[test]
    fn the_may_holidays_of_2026_are_skipped() {
        let calendar = calendar();
        assert_eq!(
            calendar.add_working_days(d(2026, 4, 29), 5).unwrap(),
            d(2026, 5, 7)
        );
        // Wednesday 2026-05-06: Thu 7, Fri 8 are days 1–2; Sat 9 (Victory Day), Sun 10 and
        // Mon 11 (Saturday's day off moved) are off; Tue 12 to Thu 14 are days 3–5.
        assert_eq!(
            calendar.add_working_days(d(2026, 5, 6), 5).unwrap(),
            d(2026, 5, 14)
        );
    }

    /// Thursday 2025-10-30: Fri 31 Oct is day 1, Sat 1 Nov (working by transfer) day 2;
    /// Sun 2, Mon 3 (moved from 1 Nov) and Tue 4 Nov are off; Wed 5 to Fri 7 Nov are days 3–5.
    #[test]
    fn a_working_saturday_is_counted() {
        let calendar = calendar();
        assert!(calendar.is_working_day(d(2025, 11, 1)));
        assert_eq!(
            calendar.add_working_days(d(2025, 10, 30), 5).unwrap(),
            d(2025, 11, 7)
        );
        // Submitted on Friday 31 October: the Saturday is the first working day.
        assert_eq!(
            calendar.add_working_days(d(2025, 10, 31), 1).unwrap(),
            d(2025, 11, 1)
        );
    }

    #[test]
    fn zero_days_is_the_same_date() {
        assert_eq!(
            calendar().add_working_days(d(2026, 5, 9), 0).unwrap(),
            d(2026, 5, 9)
        );
    }

    #[test]
    fn the_count_never_guesses_past_the_covered_years() {
        let calendar = calendar();
        // Mon 2027-12-27: Tue 28 to Fri 31 Dec are days 1–4, day 5 would be in 2028.
        let error = calendar.add_working_days(d(2027, 12, 27), 5).unwrap_err();
        assert!(
            matches!(error, CalendarError::NotCovered { date } if date == d(2028, 1, 1)),
            "{error}"
        );
        assert_eq!(
            calendar.add_working_days(d(2027, 12, 27), 4).unwrap(),
            d(2027, 12, 31)
        );
        assert!(matches!(
            calendar.add_working_days(d(2028, 3, 1), 1),
            Err(CalendarError::NotCovered { .. })
        ));
        assert!(matches!(
            calendar.add_working_days(d(2023, 3, 1), 1),
            Err(CalendarError::NotCovered { .. })
        ));
        assert!(matches!(
            calendar.working_days_between(d(2027, 12, 1), d(2028, 1, 10)),
            Err(CalendarError::NotCovered { .. })
        ));
        // The last day before the covered years is a fine start: the count itself begins on
        // 1 January 2025 (1–8 January are holidays; Thu 9 January is day 1).
        assert_eq!(
            calendar.add_working_days(d(2024, 12, 31), 1).unwrap(),
            d(2025, 1, 9)
        );
        assert!(matches!(
            calendar.add_working_days(NaiveDate::MAX, 1),
            Err(CalendarError::NotCovered { .. })
        ));
    }

    const MINIMAL: &str = r#"
        [years.2025]
        source = "test"
        holidays = ["2025-01-01"]
        working_weekends = ["2025-11-01"]
    "#;

    #[test]
    fn a_minimal_file_parses() {
        let calendar = ProductionCalendar::from_toml(MINIMAL).unwrap();
        assert!(!calendar.is_working_day(d(2025, 1, 1)));
        assert!(calendar.is_working_day(d(2025, 1, 2)));
        assert!(calendar.is_working_day(d(2025, 11, 1)));
        assert!(!calendar.is_provisional(2025));
    }

    #[test]
    fn bad_files_are_refused() {
        let refuse = |text: &str| ProductionCalendar::from_toml(text).unwrap_err();
        assert!(matches!(
            refuse(&MINIMAL.replace("source", "sauce")),
            CalendarError::Syntax(_)
        ));
        assert!(matches!(
            refuse(&format!("{MINIMAL}\nextra = 1\n")),
            CalendarError::Syntax(_)
        ));
        assert!(matches!(refuse("years = {}"), CalendarError::Empty));
        assert!(matches!(
            refuse(&MINIMAL.replace("years.2025", "years.y2025")),
            CalendarError::BadYear(_)
        ));
        assert!(matches!(
            refuse(&MINIMAL.replace("years.2025", "years.02025")),
            CalendarError::BadYear(_)
        ));
        assert!(matches!(
            refuse(&MINIMAL.replace("[\"2025-01-01\"]", "[\"2026-01-01\"]")),
            CalendarError::OutsideYear { year: 2025, .. }
        ));
        assert!(matches!(
            refuse(&MINIMAL.replace("[\"2025-01-01\"]", "[\"2025-01-01\", \"2025-01-01\"]")),
            CalendarError::Duplicate {
                list: "holidays",
                ..
            }
        ));
        // 2025-11-03 is a Monday.
        assert!(matches!(
            refuse(&MINIMAL.replace("2025-11-01", "2025-11-03")),
            CalendarError::NotAWeekend {
                weekday: Weekday::Mon,
                ..
            }
        ));
        assert!(matches!(
            refuse(&MINIMAL.replace("[\"2025-01-01\"]", "[\"2025-11-01\"]")),
            CalendarError::HolidayAndWorking { .. }
        ));
        assert!(matches!(
            refuse(&MINIMAL.replace("2025-01-01", "2025-02-30")),
            CalendarError::Syntax(_)
        ));
    }

    /// Any date from shortly before the covered years to their end.
    fn any_start() -> impl Strategy<Value = NaiveDate> {
        (0i64..(365 * 3 + 20)).prop_map(|offset| d(2024, 12, 20) + chrono::Duration::days(offset))
    }

    /// The working days in `(from, to]`, counted one by one.
    fn count_one_by_one(calendar: &ProductionCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|&date| date <= to)
            .filter(|&date| calendar.is_working_day(date))
            .map(|_| 1)
            .sum()
    }

    proptest! {
        #[test]
        fn the_deadline_is_a_working_day_exactly_n_working_days_later(
            from in any_start(),
            n in 1u32..=40,
        ) {
            let calendar = calendar();
            match calendar.add_working_days(from, n) {
                Ok(due) => {
                    prop_assert!(due > from);
                    prop_assert!(calendar.covers(due));
                    prop_assert!(calendar.is_working_day(due));
                    prop_assert_eq!(count_one_by_one(&calendar, from, due), n);
                    prop_assert_eq!(calendar.working_days_between(from, due).unwrap(), n);
                }
                Err(CalendarError::NotCovered { date }) => {
                    prop_assert!(!calendar.covers(date));
                    let next = from.succ_opt().unwrap_or(from);
                    if !calendar.covers(next) {
                        // Started outside the covered years: the very next day is unknown.
                        prop_assert_eq!(date, next);
                    } else {
                        // Otherwise only when fewer than n working days remain.
                        prop_assert_eq!(date, d(2028, 1, 1));
                        prop_assert!(count_one_by_one(&calendar, from, d(2027, 12, 31)) < n);
                    }
                }
                Err(other) => {
                    return Err(TestCaseError::fail(format!("unexpected error {other}")));
                }
            }
        }

        #[test]
        fn adding_in_steps_is_adding_at_once(
            from in any_start(),
            a in 0u32..=20,
            b in 0u32..=20,
        ) {
            let calendar = calendar();
            if let Ok(at_once) = calendar.add_working_days(from, a + b) {
                let first = calendar.add_working_days(from, a).unwrap();
                prop_assert_eq!(calendar.add_working_days(first, b).unwrap(), at_once);
            }
        }
    }
}
