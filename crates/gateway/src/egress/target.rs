//! Where a `/proxy/{dependency}/{path}` call goes: the upstream URI.

use http::{HeaderValue, Uri};
use junction_manifest::HttpUrl;

/// Why the requested path cannot be forwarded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TargetError {
    /// A `.` or `..` segment (also percent-encoded) could climb out of `base_url`.
    DotSegment,
    /// The joined URI does not parse.
    Invalid,
}

/// Joins `base_url`, the path after the dependency name (still percent-encoded,
/// as received) and the query.
pub(crate) fn upstream_uri(base: &HttpUrl, rest: &str, query: Option<&str>) -> Result<Uri, TargetError> {
    if rest.split('/').any(is_dot_segment) {
        return Err(TargetError::DotSegment);
    }
    let base = base.url().as_str().trim_end_matches('/');
    let mut uri = String::with_capacity(base.len() + rest.len() + 2);
    uri.push_str(base);
    if !rest.starts_with('/') {
        uri.push('/');
    }
    uri.push_str(rest);
    if let Some(q) = query {
        uri.push('?');
        uri.push_str(q);
    }
    uri.parse().map_err(|_| TargetError::Invalid)
}

/// The `Host` header for calls to `base`: its host, and its port unless
/// that is the scheme's default (as the HTTP client would make it).
pub(crate) fn host(base: &HttpUrl) -> Option<HeaderValue> {
    let url = base.url();
    let host = url.host_str()?;
    let value = match url.port() {
        Some(port) => HeaderValue::from_str(&format!("{host}:{port}")),
        None => HeaderValue::from_str(host),
    };
    value.ok()
}

fn is_dot_segment(segment: &str) -> bool {
    // Only `.` and `%2e` (either case), once or twice, make a dot segment.
    let dots = |s: &str| -> Option<usize> {
        let mut rest = s.as_bytes();
        let mut count = 0;
        while !rest.is_empty() {
            rest = match rest {
                [b'.', tail @ ..] => tail,
                [b'%', b'2', b'e' | b'E', tail @ ..] => tail,
                _ => return None,
            };
            count += 1;
        }
        Some(count)
    };
    matches!(dots(segment), Some(1 | 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> HttpUrl {
        s.parse().unwrap()
    }

    #[test]
    fn joins_base_path_and_query() {
        let b = base("https://api.stripe.com");
        assert_eq!(
            upstream_uri(&b, "/v1/charges", Some("a=1")).unwrap(),
            "https://api.stripe.com/v1/charges?a=1"
        );
        assert_eq!(upstream_uri(&b, "", None).unwrap(), "https://api.stripe.com/");
        let b = base("http://127.0.0.1:9000/api/");
        assert_eq!(upstream_uri(&b, "/x%20y", None).unwrap(), "http://127.0.0.1:9000/api/x%20y");
    }

    #[test]
    fn host_has_the_port_only_when_it_is_not_the_default() {
        for (url, expected) in [
            ("https://api.stripe.com/v1", "api.stripe.com"),
            ("https://api.stripe.com:443", "api.stripe.com"),
            ("http://127.0.0.1:9000/api/", "127.0.0.1:9000"),
            ("http://[::1]:8080", "[::1]:8080"),
            ("http://example.com:80", "example.com"),
        ] {
            assert_eq!(host(&base(url)).unwrap(), HeaderValue::from_str(expected).unwrap(), "{url}");
        }
    }

    #[test]
    fn refuses_to_climb_out_of_the_base_path() {
        let b = base("https://api.example.com/v1");
        for rest in ["/../admin", "/a/./b", "/%2e%2e/admin", "/%2E%2e", "/.%2e/x"] {
            assert_eq!(upstream_uri(&b, rest, None), Err(TargetError::DotSegment), "{rest}");
        }
        for rest in ["/...", "/%2e%2e%2e", "/..%2f", "/.a", "/%2", "/%2e%2", "/a..", "/"] {
            assert!(upstream_uri(&b, rest, None).is_ok(), "{rest}");
        }
    }
}
