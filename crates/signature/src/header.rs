//! Reads signature headers defensively (one occurrence, bounded size, visible
//! ASCII, a bounded number of entries) and checks signed timestamps.

use std::time::Duration;

use http::HeaderMap;

use crate::Rejection;

/// Longer header values are refused before any parsing: real signature
/// headers are well under 1 KiB, even with several signatures.
pub(crate) const MAX_HEADER_BYTES: usize = 8 * 1024;

/// More entries than this in one signature header is refused, so an attacker
/// cannot make us compute a MAC per entry per secret without limit.
pub(crate) const MAX_ENTRIES: usize = 32;

/// The value of a header the scheme cannot do without.
pub(crate) fn required<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Rejection> {
    optional(headers, name)?.ok_or_else(|| Rejection::MissingHeader(name.to_owned()))
}

/// The value of a header that may be absent. Present but unreadable is still
/// a rejection: a proxy mangling it is worth hearing about.
pub(crate) fn optional<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Rejection> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        // Two copies leave it to chance which one a later hop reads.
        return Err(malformed(name, "it appears more than once"));
    }
    if value.len() > MAX_HEADER_BYTES {
        return Err(malformed(name, "it is longer than 8 KiB"));
    }
    let text = value.to_str().map_err(|_| malformed(name, "it is not visible ASCII"))?;
    Ok(Some(text))
}

/// Splits a list-valued header, skipping empty entries and refusing too many.
pub(crate) fn entries<'a>(name: &str, value: &'a str, separator: char) -> Result<Vec<&'a str>, Rejection> {
    let entries: Vec<&str> =
        value.split(separator).map(str::trim).filter(|e| !e.is_empty()).take(MAX_ENTRIES + 1).collect();
    if entries.len() > MAX_ENTRIES {
        return Err(malformed(name, "it has more than 32 entries"));
    }
    Ok(entries)
}

/// Parses unix seconds written as plain decimal digits.
pub(crate) fn timestamp(name: &str, value: &str) -> Result<i64, Rejection> {
    // Eighteen digits always fit an i64; a sign or spaces would change the signed text.
    if value.is_empty() || value.len() > 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(name, "the timestamp is not unix seconds"));
    }
    value.parse().map_err(|_| malformed(name, "the timestamp is not unix seconds"))
}

/// A `MalformedHeader` rejection with a fixed, value-free reason.
pub(crate) fn malformed(name: &str, reason: &str) -> Rejection {
    Rejection::MalformedHeader { header: name.to_owned(), reason: reason.to_owned() }
}

/// The replay window: how far a signed timestamp may be from now.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Freshness {
    now: i64,
    tolerance_secs: u64,
}

impl Freshness {
    pub(crate) fn new(now: i64, tolerance: Duration) -> Self {
        Self { now, tolerance_secs: tolerance.as_secs() }
    }

    /// Refuses timestamps too old (replays) and too far ahead (pre-signed replays).
    pub(crate) fn check(self, name: &str, timestamp: i64) -> Result<(), Rejection> {
        if self.now.abs_diff(timestamp) > self.tolerance_secs {
            return Err(Rejection::TimestampOutsideTolerance { header: name.to_owned() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn header_names_are_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert("x-hub-signature-256", HeaderValue::from_static("sha256=00"));
        assert_eq!(required(&headers, "X-Hub-Signature-256"), Ok("sha256=00"));
    }

    #[test]
    fn unreadable_headers_are_malformed() {
        let cases: [(&str, &[&[u8]]); 3] = [
            ("not visible ASCII", &[b"t=1,v1=\xff"]),
            ("longer than 8 KiB", &[&[b'a'; MAX_HEADER_BYTES + 1]]),
            ("more than once", &[b"a", b"b"]),
        ];
        for (expected, values) in cases {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append("stripe-signature", HeaderValue::from_bytes(value).unwrap());
            }
            let err = required(&headers, "Stripe-Signature").unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn entries_are_capped() {
        let many = vec!["v1=00"; MAX_ENTRIES + 1].join(",");
        assert!(entries("h", &many, ',').is_err());
        assert_eq!(entries("h", " a, ,b ", ',').unwrap(), ["a", "b"]);
    }

    #[test]
    fn timestamps_are_plain_digits() {
        for bad in ["", "-1", "+1", " 1", "1.5", "9999999999999999999", "0x10"] {
            assert!(timestamp("h", bad).is_err(), "{bad:?}");
        }
        assert_eq!(timestamp("h", "1614265330"), Ok(1_614_265_330));
    }

    #[test]
    fn freshness_is_symmetric() {
        let window = Freshness::new(1_000, Duration::from_secs(300));
        assert!(window.check("h", 700).is_ok());
        assert!(window.check("h", 1_300).is_ok());
        assert!(window.check("h", 699).is_err());
        assert!(window.check("h", 1_301).is_err());
        assert!(Freshness::new(i64::MIN, Duration::MAX).check("h", i64::MAX).is_ok());
    }
}
