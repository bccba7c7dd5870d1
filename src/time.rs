//! UTC timestamps without a calendar dependency.
//!
//! The worker reads the clock once per request or cron run (at the edge) and
//! passes a [`Timestamp`] down; nothing in the core reads the clock itself, so
//! every result that depends on time is reproducible in tests.
//!
//! Invariant: a `Timestamp` is whole milliseconds since the Unix epoch, UTC,
//! and its text form is RFC 3339 with a `Z` suffix and millisecond precision.

use std::fmt;

const MILLIS_PER_SECOND: i64 = 1_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// A point in time: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A calendar date and time of day in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millisecond: u32,
}

/// Why a timestamp string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an RFC 3339 UTC timestamp like 2026-11-21T02:00:00Z")]
pub struct TimestampParseError {
    /// The text that failed to parse.
    pub input: String,
}

impl Timestamp {
    /// The timestamp `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, rounded down.
    pub const fn as_seconds(self) -> i64 {
        self.0.div_euclid(MILLIS_PER_SECOND)
    }

    /// Whole seconds from `earlier` to `self` (negative if `earlier` is later).
    pub const fn seconds_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0).div_euclid(MILLIS_PER_SECOND)
    }

    /// The calendar fields of this instant in UTC.
    pub fn civil(self) -> Civil {
        let days = self.as_seconds().div_euclid(SECONDS_PER_DAY);
        let second_of_day = self.as_seconds().rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (second_of_day / 3_600) as u32,
            minute: (second_of_day % 3_600 / 60) as u32,
            second: (second_of_day % 60) as u32,
            millisecond: self.0.rem_euclid(MILLIS_PER_SECOND) as u32,
        }
    }

    /// Builds a timestamp from calendar fields in UTC (fields are not range-checked).
    pub fn from_civil(c: Civil) -> Self {
        let days = days_from_civil(c.year, c.month, c.day);
        let seconds = days * SECONDS_PER_DAY
            + i64::from(c.hour) * 3_600
            + i64::from(c.minute) * 60
            + i64::from(c.second);
        Self(seconds * MILLIS_PER_SECOND + i64::from(c.millisecond))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
    pub fn parse_rfc3339(input: &str) -> Result<Self, TimestampParseError> {
        let fail = || TimestampParseError {
            input: input.to_owned(),
        };
        let b = input.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(fail());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32, TimestampParseError> {
            let digits = input.get(range).ok_or_else(fail)?;
            if !digits.bytes().all(|d| d.is_ascii_digit()) {
                return Err(fail());
            }
            digits.parse().map_err(|_| fail())
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        let rest = &input[19..];
        let millisecond = match rest {
            "Z" => 0,
            _ if rest.len() == 5 && rest.starts_with('.') && rest.ends_with('Z') => number(20..23)?,
            _ => return Err(fail()),
        };
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(i64::from(year), month)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return Err(fail());
        }
        Ok(Self::from_civil(Civil {
            year: i64::from(year),
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
        }))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-21T02:00:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.millisecond
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(
            Timestamp::from_millis(0).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_millis(1_795_226_400_123).to_string(),
            "2026-11-21T02:00:00.123Z"
        );
        assert_eq!(
            Timestamp::from_millis(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn parses_with_and_without_millis() {
        let t = Timestamp::parse_rfc3339("2026-11-21T02:00:00Z").unwrap();
        assert_eq!(t.as_millis(), 1_795_226_400_000);
        let t = Timestamp::parse_rfc3339("2026-11-21T02:00:00.123Z").unwrap();
        assert_eq!(t.as_millis(), 1_795_226_400_123);
    }

    #[test]
    fn refuses_malformed_and_impossible_dates() {
        for bad in [
            "",
            "2026-11-21",
            "2026-11-21T02:00:00",
            "2026-11-21T02:00:00+01:00",
            "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T02:00:00.1Z",
            "2026-1a-21T02:00:00Z",
        ] {
            assert!(
                Timestamp::parse_rfc3339(bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn seconds_since_rounds_down() {
        let a = Timestamp::from_millis(1_000);
        assert_eq!(Timestamp::from_millis(2_999).seconds_since(a), 1);
        assert_eq!(a.seconds_since(Timestamp::from_millis(2_999)), -2);
    }

    proptest! {
        #[test]
        fn text_round_trips(millis in -62_135_596_800_000i64..253_402_300_799_999i64) {
            let t = Timestamp::from_millis(millis);
            prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_string()).unwrap(), t);
            prop_assert_eq!(Timestamp::from_civil(t.civil()), t);
        }
    }
}
