//! Absolute `http`/`https` URLs: upstream base URLs, forward targets, JWKS.

use std::{fmt, str::FromStr};

use serde::{Serialize, Serializer};

use super::{decode_from_str, string_schema};

/// An absolute `http://` or `https://` URL with a host and no credentials
/// (credentials belong in `auth`, where they are kept secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(url::Url);

impl HttpUrl {
    /// The parsed URL.
    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        match self.0.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        }
    }
}

impl FromStr for HttpUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let url = url::Url::parse(s).map_err(|e| e.to_string())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("the scheme must be http or https, not `{}`", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("it has no host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("it must not contain a user name or password".into());
        }
        if url.fragment().is_some() {
            return Err("it must not have a `#fragment`".into());
        }
        Ok(Self(url))
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl Serialize for HttpUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

string_schema!(HttpUrl, "HttpUrl", {
    "type": "string",
    "format": "uri",
    "pattern": "^https?://"
});

decode_from_str!(
    HttpUrl,
    "an http(s) URL",
    "write an absolute URL such as \"https://api.example.com\"; put credentials in `auth`"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_only() {
        assert!("https://api.stripe.com".parse::<HttpUrl>().is_ok());
        assert!("http://127.0.0.1:9000/hooks".parse::<HttpUrl>().unwrap().is_loopback());
        for (bad, why) in [
            ("ftp://x", "the scheme must be http or https, not `ftp`"),
            ("api.stripe.com", "relative URL without a base"),
            ("https://user:pw@x.com", "it must not contain a user name or password"),
            ("https://x.com/#a", "it must not have a `#fragment`"),
            ("http://", "empty host"),
        ] {
            assert_eq!(bad.parse::<HttpUrl>().unwrap_err(), why, "{bad}");
        }
    }
}
