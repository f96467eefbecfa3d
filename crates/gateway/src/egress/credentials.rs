//! Adds a dependency's `auth` credentials to a forwarded call.

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue, header::AUTHORIZATION};
use junction_manifest::Auth;

/// Sets the credential header, replacing whatever the client sent in it. The
/// value is marked sensitive so hyper's and our own debug output hide it.
pub(crate) fn inject(headers: &mut HeaderMap, auth: Option<&Auth>) -> Result<(), InvalidCredential> {
    let Some(auth) = auth else { return Ok(()) };
    let (name, value) = match auth {
        Auth::Bearer { token } => (AUTHORIZATION, format!("Bearer {}", token.expose())),
        Auth::Basic { username, password } => {
            let pair = format!("{username}:{}", password.expose());
            (AUTHORIZATION, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
        }
        Auth::Header { name, value } => {
            let name = HeaderName::from_bytes(name.as_str().as_bytes()).map_err(|_| InvalidCredential)?;
            (name, value.expose().to_owned())
        }
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| InvalidCredential)?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

/// The credential holds characters that cannot go in a header (such as a
/// newline). The value itself is never part of this error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidCredential;

#[cfg(test)]
mod tests {
    use junction_manifest::Secret;

    use super::*;

    #[test]
    fn sets_each_kind_and_marks_it_sensitive() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer from-client"));
        inject(&mut h, Some(&Auth::Bearer { token: Secret::new("sk_1") })).unwrap();
        assert_eq!(h[AUTHORIZATION], "Bearer sk_1");
        assert!(h[AUTHORIZATION].is_sensitive());

        let basic = Auth::Basic { username: "u".into(), password: Secret::new("p") };
        inject(&mut h, Some(&basic)).unwrap();
        assert_eq!(h[AUTHORIZATION], "Basic dTpw");

        let header = Auth::Header { name: "X-Api-Key".parse().unwrap(), value: Secret::new("k") };
        inject(&mut h, Some(&header)).unwrap();
        assert_eq!(h["x-api-key"], "k");

        let bad = Auth::Bearer { token: Secret::new("a\nb") };
        assert_eq!(inject(&mut h, Some(&bad)), Err(InvalidCredential));
    }
}
