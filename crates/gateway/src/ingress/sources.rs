//! The configured sources, ready to verify: one [`Verifier`] per source.

use std::{collections::HashMap, time::Duration};

use junction_manifest::{HmacAlgorithm, HmacEncoding, Manifest, Scheme as ManifestScheme, Source};
use junction_signature::{Encoding, HmacAlgorithm as Algorithm, HmacSpec, Scheme, Verifier};

use super::IngressError;

/// A source as the receiving handler needs it.
#[derive(Debug)]
pub(crate) struct SourceRuntime {
    pub(crate) verifier: Verifier,
    pub(crate) scheme: ManifestScheme,
    pub(crate) config: Source,
}

/// Every source of the manifest, by name.
#[derive(Debug, Default)]
pub(crate) struct Sources(HashMap<String, SourceRuntime>);

impl Sources {
    pub(crate) fn new(manifest: &Manifest) -> Result<Self, IngressError> {
        let mut out = HashMap::new();
        for (name, source) in &manifest.sources {
            let failed = |reason: String| IngressError { source_name: name.to_string(), reason };
            let secrets = source.secret.iter().map(|s| s.expose().to_owned()).collect();
            let tolerance: Duration = source.tolerance.get();
            let verifier =
                Verifier::new(scheme(source), secrets, tolerance).map_err(|e| failed(e.to_string()))?;
            out.insert(
                name.to_string(),
                SourceRuntime { verifier, scheme: source.scheme, config: source.clone() },
            );
        }
        Ok(Self(out))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&SourceRuntime> {
        self.0.get(name)
    }
}

fn scheme(source: &Source) -> Scheme {
    match source.scheme {
        ManifestScheme::Stripe => Scheme::Stripe,
        ManifestScheme::Github => Scheme::Github,
        ManifestScheme::Shopify => Scheme::Shopify,
        ManifestScheme::Slack => Scheme::Slack,
        ManifestScheme::Twilio => Scheme::Twilio,
        ManifestScheme::Standard => Scheme::Standard,
        ManifestScheme::Hmac => {
            let spec = source.hmac.as_ref().expect("the manifest requires `hmac` with scheme = \"hmac\"");
            Scheme::Hmac(HmacSpec {
                header: http::HeaderName::from_bytes(spec.header.as_str().as_bytes())
                    .expect("the manifest checked the header name"),
                algorithm: match spec.algorithm {
                    HmacAlgorithm::Sha1 => Algorithm::Sha1,
                    HmacAlgorithm::Sha256 => Algorithm::Sha256,
                    HmacAlgorithm::Sha512 => Algorithm::Sha512,
                },
                encoding: match spec.encoding {
                    HmacEncoding::Hex => Encoding::Hex,
                    HmacEncoding::Base64 => Encoding::Base64,
                },
                prefix: spec.prefix.clone(),
            })
        }
    }
}
