//! Sizes written as `"512KiB"`, `"1MiB"`, `"10MB"`.

use std::{fmt, str::FromStr};

use serde::{Serialize, Serializer};

use super::{decode_from_str, string_schema};

/// A number of bytes, written with a unit: `B`, `KB`/`MB`/`GB` (powers of
/// 1000) or `KiB`/`MiB`/`GiB` (powers of 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

const UNITS: [(&str, u64); 7] = [
    ("B", 1),
    ("KB", 1000),
    ("MB", 1000 * 1000),
    ("GB", 1000 * 1000 * 1000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

impl ByteSize {
    /// The number of bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        if digits == 0 {
            return Err(if s.is_empty() { "it is empty".into() } else { "expected a number".into() });
        }
        let n: u64 = s[..digits].parse().map_err(|_| "the number is too large")?;
        let unit = s[digits..].trim_start();
        let Some((_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                "a unit is missing after the number".into()
            } else {
                format!("unknown unit `{unit}`")
            });
        };
        n.checked_mul(*scale).map(Self).ok_or_else(|| "it is too large".into())
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, scale) = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
            .into_iter()
            .find(|(_, scale)| self.0 >= *scale && self.0.is_multiple_of(*scale))
            .unwrap_or(("B", 1));
        write!(f, "{}{unit}", self.0 / scale)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

string_schema!(ByteSize, "ByteSize", {
    "type": "string",
    "description": "A size: an integer and a unit B, KB, MB, GB, KiB, MiB or GiB, e.g. \"1MiB\".",
    "pattern": "^\\s*[0-9]+\\s*(B|KB|MB|GB|KiB|MiB|GiB)\\s*$"
});

decode_from_str!(
    ByteSize,
    "a size",
    "write a number and a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. \"1MiB\""
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, bytes, back) in [
            ("1MiB", 1 << 20, "1MiB"),
            ("1 MiB", 1 << 20, "1MiB"),
            ("10MB", 10_000_000, "10000000B"),
            ("512KiB", 512 << 10, "512KiB"),
            ("0B", 0, "0B"),
            ("2GiB", 2 << 30, "2GiB"),
        ] {
            let s: ByteSize = text.parse().unwrap();
            assert_eq!(s.bytes(), bytes, "{text}");
            assert_eq!(s.to_string(), back);
        }
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        for (text, why) in [
            ("", "it is empty"),
            ("1024", "a unit is missing after the number"),
            ("1mb", "unknown unit `mb`"),
            ("MiB", "expected a number"),
            ("1.5MiB", "unknown unit `.5MiB`"),
            ("99999999999GiB", "it is too large"),
        ] {
            assert_eq!(text.parse::<ByteSize>().unwrap_err(), why, "{text}");
        }
    }
}
