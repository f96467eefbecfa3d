//! Percentages written as `"99.9%"`, used for availability targets.

use std::{fmt, str::FromStr};

use serde::{Serialize, Serializer};

use super::{decode_from_str, string_schema};

/// A percentage between 0 and 100, written with a `%` sign.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percent(f64);

impl Percent {
    /// The value as a ratio in [0, 1].
    pub fn ratio(self) -> f64 {
        self.0 / 100.0
    }
}

impl FromStr for Percent {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let number = s.trim().strip_suffix('%').ok_or("it must end with `%`")?.trim();
        // Plain decimals only: `f64::from_str` would also take "1e1" or "inf".
        let (int, frac) = number.split_once('.').unwrap_or((number, "0"));
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || !digits(frac) {
            return Err("expected a number such as 99.9 before `%`".into());
        }
        let value: f64 = number.parse().map_err(|_| "expected a number before `%`")?;
        if !(0.0..=100.0).contains(&value) {
            return Err("it must be between 0% and 100%".into());
        }
        Ok(Self(value))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

string_schema!(Percent, "Percent", {
    "type": "string",
    "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*%\\s*$"
});

decode_from_str!(Percent, "a percentage", "write a number and `%`, e.g. \"99.9%\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_percentages_only() {
        assert!(("99.99%".parse::<Percent>().unwrap().ratio() - 0.9999).abs() < 1e-12);
        assert_eq!(" 100 % ".parse::<Percent>().unwrap().ratio(), 1.0);
        for bad in ["99.9", "1e1%", "inf%", "-1%", "101%", ".5%", "5.%", "%"] {
            assert!(bad.parse::<Percent>().is_err(), "{bad}");
        }
    }
}
