//! Query parameters the list routes share: cursor pagination (`after`,
//! `limit`) and time ranges (`since`, `until`), each checked with a clear
//! 400 problem.

use axum::extract::{FromRequestParts, Query};
use http::{StatusCode, request::Parts};
use junction_store::{PageRequest, Record, RecordFilter, RecordId, Timestamp};
use serde::de::DeserializeOwned;
use time::format_description::well_known::Rfc3339;

use crate::{problem::Problem, state::AppState};

/// Like axum's `Query`, but a query it cannot read is a problem+json 400.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(query)) => Ok(Self(query)),
            Err(rejection) => {
                Err(invalid_query(format!("The query string cannot be read: {}", rejection.body_text())))
            }
        }
    }
}

/// The largest page a caller may ask for.
pub(crate) const MAX_LIMIT: usize = 1000;

/// A 400 problem about a query parameter.
pub(crate) fn invalid_query(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "Invalid Query", detail)
}

/// The page that `after` and `limit` ask for (`limit` defaults to `default`).
pub(crate) fn page(after: Option<&str>, limit: Option<&str>, default: usize) -> Result<PageRequest, Problem> {
    let after = match after.map(str::parse::<RecordId>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Err(invalid_query("`after` must be an id: the `next` of a previous page")),
    };
    let limit = match limit.map(str::parse::<usize>) {
        None => default,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(invalid_query(format!("`limit` must be a whole number from 1 to {MAX_LIMIT}")));
        }
    };
    Ok(PageRequest { after, limit })
}

/// One page of the records `filter` selects, each rendered by `view`, and
/// the cursor of the next page (what every list route answers).
pub(crate) async fn fetch<T>(
    state: &AppState,
    filter: &RecordFilter,
    page: PageRequest,
    view: impl Fn(&Record) -> T,
) -> Result<(Vec<T>, Option<String>), Problem> {
    let page = state.store().records(filter, page).await.map_err(|e| super::store_failed(&e))?;
    Ok((page.items.iter().map(view).collect(), page.next.map(|id| id.to_string())))
}

/// An RFC 3339 time such as `2026-11-25T10:00:00Z`, for `name`.
pub(crate) fn time(name: &str, value: Option<&str>) -> Result<Option<Timestamp>, Problem> {
    let Some(value) = value else { return Ok(None) };
    let parsed = time::OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok());
    match parsed {
        Some(millis) => Ok(Some(Timestamp(millis))),
        None => Err(invalid_query(format!("`{name}` must be an RFC 3339 time such as 2026-11-25T10:00:00Z"))),
    }
}

/// A filter value, at most 200 characters (longer ones cannot name anything).
pub(crate) fn text<'a>(name: &str, value: Option<&'a str>) -> Result<Option<&'a str>, Problem> {
    match value {
        Some(v) if v.len() > 200 => Err(invalid_query(format!("`{name}` is too long"))),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Q {
        after: Option<String>,
        limit: Option<String>,
    }

    async fn query(uri: &str) -> Result<Q, Problem> {
        let (mut parts, ()) = http::Request::builder().uri(uri).body(()).unwrap().into_parts();
        ApiQuery::<Q>::from_request_parts(&mut parts, &()).await.map(|ApiQuery(q)| q)
    }

    #[tokio::test]
    async fn empty_parameters_are_given_and_checked() {
        let q = query("/v1/x?after=&limit=5").await.unwrap();
        assert_eq!(q.after.as_deref(), Some(""), "empty is given, and then invalid where an id is needed");
        assert_eq!(page(q.after.as_deref(), None, 50).unwrap_err().status, 400);
        let q = query("/v1/x").await.unwrap();
        assert!(q.after.is_none() && q.limit.is_none());
    }

    #[test]
    fn pages_default_and_bound_their_size() {
        assert_eq!(page(None, None, 50).unwrap().limit, 50);
        assert_eq!(page(None, Some("1000"), 50).unwrap().limit, 1000);
        for bad in ["0", "1001", "-1", "ten", "", "1e3"] {
            assert_eq!(page(None, Some(bad), 50).unwrap_err().status, 400, "{bad}");
        }
        assert_eq!(page(Some("not-an-id"), None, 50).unwrap_err().status, 400);
    }

    #[test]
    fn times_are_rfc_3339() {
        assert_eq!(time("since", Some("1970-01-01T00:00:01Z")).unwrap(), Some(Timestamp(1000)));
        assert_eq!(time("since", Some("1970-01-01T01:00:01.5+01:00")).unwrap(), Some(Timestamp(1500)));
        assert_eq!(time("since", None).unwrap(), None);
        for bad in ["yesterday", "2026-13-01T00:00:00Z", "1700000000", "2026-11-25", ""] {
            let problem = time("since", Some(bad)).unwrap_err();
            assert!(problem.detail.contains("`since`"), "{bad}");
        }
    }
}
