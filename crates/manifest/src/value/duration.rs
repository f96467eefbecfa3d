//! Durations written as `"250ms"`, `"30s"`, `"5m"`, `"1h30m"`.

use std::{fmt, str::FromStr, time::Duration};

use serde::{Serialize, Serializer};

use super::{decode_from_str, string_schema};

/// A duration written for people: one or more `<integer><unit>` parts with
/// units `ms`, `s`, `m`, `h`, `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// No time at all.
    pub const ZERO: Self = Self(Duration::ZERO);

    /// A duration of whole seconds.
    pub const fn secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }

    /// A duration of whole milliseconds.
    pub const fn millis(ms: u64) -> Self {
        Self(Duration::from_millis(ms))
    }

    /// The standard-library duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("it is empty".into());
        }
        let mut total = Duration::ZERO;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            if digits == 0 {
                return Err("expected a number".into());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| "the number is too large")?;
            rest = &rest[digits..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let part = match &rest[..unit_len] {
                "ms" => Some(Duration::from_millis(n)),
                "s" => Some(Duration::from_secs(n)),
                "m" => n.checked_mul(60).map(Duration::from_secs),
                "h" => n.checked_mul(3600).map(Duration::from_secs),
                "d" => n.checked_mul(86_400).map(Duration::from_secs),
                "" => return Err("a unit is missing after the number".into()),
                unit => return Err(format!("unknown unit `{unit}`")),
            };
            total = part.and_then(|p| total.checked_add(p)).ok_or("it is too large")?;
            rest = &rest[unit_len..];
        }
        Ok(Self(total))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let units = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s"), (1, "ms")];
        if ms == 0 {
            return f.write_str("0s");
        }
        let mut rest = ms;
        for (size, unit) in units {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

string_schema!(HumanDuration, "Duration", {
    "type": "string",
    "description": "A duration: integers with units ms, s, m, h, d, e.g. \"250ms\", \"30s\", \"1h30m\".",
    "pattern": "^\\s*([0-9]+(ms|s|m|h|d))+\\s*$"
});

decode_from_str!(
    HumanDuration,
    "a duration",
    "write a number and a unit (ms, s, m, h, d), e.g. \"250ms\", \"30s\" or \"1h30m\""
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, ms, back) in [
            ("250ms", 250, "250ms"),
            ("30s", 30_000, "30s"),
            ("5m", 300_000, "5m"),
            ("1h30m", 5_400_000, "1h30m"),
            ("72h", 259_200_000, "3d"),
            ("0s", 0, "0s"),
            ("1s500ms", 1500, "1s500ms"),
        ] {
            let d: HumanDuration = text.parse().unwrap();
            assert_eq!(d.0.as_millis(), ms, "{text}");
            assert_eq!(d.to_string(), back);
        }
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for (text, why) in [
            ("", "it is empty"),
            ("10", "a unit is missing after the number"),
            ("10 sec", "unknown unit ` sec`"),
            ("s", "expected a number"),
            ("-5s", "expected a number"),
            ("1.5s", "unknown unit `.`"),
            ("99999999999999999999s", "the number is too large"),
            ("999999999999999999d", "it is too large"),
        ] {
            assert_eq!(text.parse::<HumanDuration>().unwrap_err(), why, "{text}");
        }
    }
}
