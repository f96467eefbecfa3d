//! Where a `/proxy/{dependency}/{path}` call goes: the upstream URI.

use http::Uri;
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

fn is_dot_segment(segment: &str) -> bool {
    let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
    decoded == "." || decoded == ".."
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
    fn refuses_to_climb_out_of_the_base_path() {
        let b = base("https://api.example.com/v1");
        for rest in ["/../admin", "/a/./b", "/%2e%2e/admin", "/%2E%2e", "/.%2e/x"] {
            assert_eq!(upstream_uri(&b, rest, None), Err(TargetError::DotSegment), "{rest}");
        }
        assert!(upstream_uri(&b, "/...", None).is_ok());
    }
}
