//! Value types that appear in the manifest: durations, sizes, names, URLs.
//! Each parses from the human form users write and prints back the same way.

mod duration;
mod header_name;
mod http_url;
mod name;
mod percent;
mod size;
mod socket_addr;

pub use self::{
    duration::HumanDuration, header_name::HeaderName, http_url::HttpUrl, name::Name, percent::Percent,
    size::ByteSize,
};

/// Implements `JsonSchema` for a type that is written as a string.
macro_rules! string_schema {
    ($t:ty, $name:literal, $($schema:tt)+) => {
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!($($schema)+)
            }
        }
    };
}
pub(crate) use string_schema;

/// Decodes a string-written type through its parser, reporting `label` and
/// `help` on failure. The parser's error says what is wrong without echoing
/// values that came from the environment.
macro_rules! decode_from_str {
    ($t:ty, $expected:literal, $help:literal) => {
        impl crate::decode::Decode for $t {
            fn decode(
                value: &crate::decode::Value<'_>,
                key: &str,
                cx: &mut crate::decode::Cx<'_>,
            ) -> Option<Self> {
                let s = <crate::decode::Interpolated as crate::decode::Decode>::decode(value, key, cx)?;
                match s.value.parse::<$t>() {
                    Ok(v) => Some(v),
                    Err(reason) => {
                        cx.report(
                            crate::diagnostic::Problem::new(
                                value.span(),
                                format!("`{key}`: {} is not {}: {reason}", s.shown(), $expected),
                                concat!("expected ", $expected),
                            )
                            .with_help($help),
                        );
                        None
                    }
                }
            }
        }
    };
}
pub(crate) use decode_from_str;
