//! Times as the bot stores them: whole milliseconds since the Unix epoch (`1788768000000`, 13
//! characters) instead of RFC 3339 with nanoseconds (32). Reading takes either, so values
//! stored by earlier versions still load. Use with `#[serde(with = "stored_time")]`, or
//! `stored_time::optional` for an `Option`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Millis(i64),
    Text(DateTime<Utc>),
}

impl Stored {
    fn time<E: serde::de::Error>(self) -> Result<DateTime<Utc>, E> {
        match self {
            Stored::Text(time) => Ok(time),
            Stored::Millis(ms) => DateTime::<Utc>::from_timestamp_millis(ms)
                .ok_or_else(|| E::custom("a time out of range")),
        }
    }
}

pub fn serialize<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(time.timestamp_millis())
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    Stored::deserialize(deserializer)?.time()
}

/// The same for an optional time.
pub mod optional {
    use super::*;

    pub fn serialize<S: Serializer>(
        time: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_some(&time.timestamp_millis()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<Stored>::deserialize(deserializer)?
            .map(Stored::time)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct At {
        #[serde(with = "super")]
        at: chrono::DateTime<chrono::Utc>,
        #[serde(default, with = "super::optional")]
        until: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn times_are_written_as_milliseconds_and_read_in_either_form() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 9, 7, 6, 0, 0)
            .single()
            .expect("a date");
        let value = At {
            at,
            until: Some(at),
        };
        let json = serde_json::to_string(&value).expect("encodes");
        assert_eq!(json, r#"{"at":1788760800000,"until":1788760800000}"#);
        let old: At = serde_json::from_str(
            r#"{"at":"2026-09-07T06:00:00Z","until":"2026-09-07T06:00:00.000000000Z"}"#,
        )
        .expect("the old form reads");
        assert_eq!(old, value);
        let none: At = serde_json::from_str(r#"{"at":1788760800000,"until":null}"#).expect("reads");
        assert_eq!(none.until, None);
    }
}
