//! UTC instants at millisecond precision, the grain of `fetched_at`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not an RFC 3339 time such as `2022-05-24T01:36:00Z`.
    #[error("'{input}' is not an RFC 3339 time (e.g. 2022-05-24T01:36:00Z)")]
    NotRfc3339 {
        /// What was given.
        input: String,
    },
    /// Outside the range a timestamp can hold.
    #[error("{millis} ms since 1970 is outside the supported range of times")]
    OutOfRange {
        /// The offending value.
        millis: i64,
    },
}

/// Milliseconds since 1970-01-01T00:00:00Z, printed as RFC 3339 in UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Millis(i64);

impl Millis {
    /// Wraps a count of milliseconds since the Unix epoch.
    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Wraps a count of milliseconds, refusing values no calendar date has.
    pub fn checked_from_millis(millis: i64) -> Result<Self, TimeError> {
        Utc.timestamp_millis_opt(millis)
            .single()
            .map(|_| Self(millis))
            .ok_or(TimeError::OutOfRange { millis })
    }

    /// The current time, truncated to milliseconds.
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    /// Milliseconds since the Unix epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// The order-preserving big-endian form used in index keys (sign bit
    /// flipped so that times before 1970 sort first).
    pub fn to_sortable_bytes(self) -> [u8; 8] {
        ((self.0 as u64) ^ (1 << 63)).to_be_bytes()
    }

    /// Reads [`Millis::to_sortable_bytes`] back.
    pub fn from_sortable_bytes(bytes: [u8; 8]) -> Self {
        Self((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
    }

    /// The same instant as a chrono value.
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        Utc.timestamp_millis_opt(self.0).single()
    }
}

impl From<DateTime<Utc>> for Millis {
    fn from(time: DateTime<Utc>) -> Self {
        Self(time.timestamp_millis())
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(time) => f.write_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => write!(f, "@{}ms", self.0),
        }
    }
}

impl fmt::Debug for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Millis {
    type Err = TimeError;

    /// Reads an RFC 3339 time with any offset; keeps millisecond precision.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(input.trim())
            .map(|time| Self(time.with_timezone(&Utc).timestamp_millis()))
            .map_err(|_| TimeError::NotRfc3339 {
                input: input.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_utc_with_milliseconds_and_reads_offsets() {
        let time: Millis = "2022-05-24T09:36:00.5+08:00".parse().unwrap();
        assert_eq!(time.to_string(), "2022-05-24T01:36:00.500Z");
        assert_eq!(time.as_millis(), 1_653_356_160_500);
    }

    #[test]
    fn sortable_bytes_keep_order_across_the_epoch() {
        let times = [-5_000, -1, 0, 1, 1_653_356_160_000];
        for pair in times.windows(2) {
            let (a, b) = (Millis::from_millis(pair[0]), Millis::from_millis(pair[1]));
            assert!(a.to_sortable_bytes() < b.to_sortable_bytes());
            assert_eq!(Millis::from_sortable_bytes(a.to_sortable_bytes()), a);
        }
    }

    #[test]
    fn refuses_text_that_is_not_rfc3339() {
        assert!("yesterday".parse::<Millis>().is_err());
        assert!(Millis::checked_from_millis(i64::MAX).is_err());
    }
}
