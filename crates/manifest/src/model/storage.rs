//! `[storage]`: where records and queues live.

use std::{fmt, path::PathBuf, str::FromStr};

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use crate::{
    decode::{Cx, Decode, Table, Value},
    secret::Secret,
    value::{HumanDuration, decode_from_str, string_schema},
};

/// The durable store behind every queue, event and audit record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// "sqlite://PATH" (embedded, the default: "sqlite://junction.db") or
    /// "postgres://..." to share queues between several nodes.
    #[serde(default)]
    pub url: StorageUrl,
    /// How long a worker holds a job before another node may take it over. Default "30s".
    #[serde(default = "default_lease")]
    pub lease: HumanDuration,
    /// How long finished records (every delivery done or dead-lettered) are
    /// kept, with their attempt logs. Undelivered records are never deleted. Default "7d".
    #[serde(default = "default_retention")]
    pub retention: HumanDuration,
    /// How long audit entries are kept. Default "30d".
    #[serde(default = "default_audit_retention")]
    pub audit_retention: HumanDuration,
}

fn default_retention() -> HumanDuration {
    HumanDuration::secs(7 * 86_400)
}

fn default_audit_retention() -> HumanDuration {
    HumanDuration::secs(30 * 86_400)
}

fn default_lease() -> HumanDuration {
    HumanDuration::secs(30)
}

impl Default for Storage {
    fn default() -> Self {
        Self {
            url: StorageUrl::default(),
            lease: default_lease(),
            retention: default_retention(),
            audit_retention: default_audit_retention(),
        }
    }
}

/// Which backend holds the data. A PostgreSQL URL may carry a password, so it
/// is kept as a [`Secret`] and printed with the password masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// An SQLite file, created when missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(Secret),
}

impl Default for StorageUrl {
    fn default() -> Self {
        StorageUrl::Sqlite(PathBuf::from("junction.db"))
    }
}

impl FromStr for StorageUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("the SQLite file path is empty".into());
            }
            return Ok(StorageUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            // Parse only to validate; the error text of `url` never includes the input.
            let url = url::Url::parse(s).map_err(|e| format!("it is not a valid URL ({e})"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("the PostgreSQL URL has no host".into());
            }
            return Ok(StorageUrl::Postgres(Secret::new(s)));
        }
        Err("it must start with `sqlite://` or `postgres://`".into())
    }
}

impl fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            StorageUrl::Postgres(secret) => match url::Url::parse(secret.expose()) {
                Ok(mut url) => {
                    // Masking can only fail for URLs without a host, which parsing rejected.
                    if url.password().is_some() && url.set_password(Some("***")).is_err() {
                        return f.write_str("postgres://***");
                    }
                    f.write_str(url.as_str())
                }
                Err(_) => f.write_str("postgres://***"),
            },
        }
    }
}

impl Serialize for StorageUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

string_schema!(StorageUrl, "StorageUrl", {
    "type": "string",
    "pattern": "^(sqlite://.+|postgres(ql)?://.+)$",
    "default": "sqlite://junction.db"
});

decode_from_str!(
    StorageUrl,
    "a storage URL",
    "use \"sqlite://junction.db\" (embedded) or \"postgres://user@host/db\""
);

impl Decode for Storage {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let d = Self::default();
        let storage = Storage {
            url: t.or("url", cx, d.url),
            lease: t.or("lease", cx, d.lease),
            retention: t.or("retention", cx, d.retention),
            audit_retention: t.or("audit_retention", cx, d.audit_retention),
        };
        for (key, value) in [("retention", storage.retention), ("audit_retention", storage.audit_retention)] {
            t.check(cx, key, value >= HumanDuration::secs(60), "must be at least 1m", "too short");
        }
        let lease = storage.lease;
        t.check(
            cx,
            "lease",
            lease >= HumanDuration::secs(1) && lease <= HumanDuration::secs(3600),
            "must be between 1s and 1h",
            "out of range",
        );
        t.finish(cx);
        Some(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_postgres_passwords() {
        let url: StorageUrl = "postgres://app:hunter2@db:5432/junction".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/junction");
        assert!(!format!("{url:?}").contains("hunter2"));
        let url: StorageUrl = "sqlite:///var/lib/junction.db".parse().unwrap();
        assert_eq!(url, StorageUrl::Sqlite("/var/lib/junction.db".into()));
        assert!("mysql://x".parse::<StorageUrl>().is_err());
        assert!("sqlite://".parse::<StorageUrl>().is_err());
    }
}
