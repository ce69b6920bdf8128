//! Who is asking: bearer JWTs (HS256 with a shared secret, or RS256 with a public key), their
//! claims, and the roles they carry. Knows nothing of HTTP or GraphQL: the HTTP edge
//! turns a header into a [`Principal`] here, the GraphQL guards read the role.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a caller may do, in increasing order of rights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// No token: registry data and aggregates (student counts suppressed below k = 5).
    #[default]
    Public,
    /// Also pseudonymous student rows and placements.
    Analyst,
    /// Also every mutation and the bulk import.
    Editor,
    /// Also the audit trail.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Analyst => "analyst",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }
}

/// The caller of one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`; `None` for anonymous callers.
    pub subject: Option<String>,
    pub role: Role,
    /// When the token stops being valid (seconds since the epoch).
    pub expires_at: Option<u64>,
}

impl Principal {
    /// How the caller is named in change events.
    pub fn actor(&self) -> String {
        self.subject.clone().unwrap_or_else(|| "anonymous".into())
    }
}

/// The claims Samverka reads and writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iss: String,
    pub iat: u64,
    pub exp: u64,
}

/// Why a token was refused. Every variant means `UNAUTHENTICATED`: never a silent downgrade.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header must be `Bearer <token>`")]
    Malformed,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature, issuer or claims are not valid")]
    Invalid,
}

/// Where keys come from (see `samverka --help`).
#[derive(Clone, Debug)]
pub enum KeySource {
    /// HS256 with a shared secret.
    Secret(Vec<u8>),
    /// RS256: verify with a public key (PEM); sign (the `token` command) with a private key.
    Rsa { public_pem: Vec<u8>, private_pem: Option<Vec<u8>> },
}

/// Verifies (and, with a secret or private key, issues) tokens.
#[derive(Clone)]
pub struct Authenticator {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    algorithm: Algorithm,
    issuer: String,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("algorithm", &self.algorithm).field("issuer", &self.issuer).finish()
    }
}

impl Authenticator {
    pub fn new(keys: &KeySource, issuer: impl Into<String>) -> anyhow::Result<Self> {
        let issuer = issuer.into();
        Ok(match keys {
            KeySource::Secret(secret) => {
                anyhow::ensure!(secret.len() >= 32, "the JWT secret must be at least 32 bytes");
                Self {
                    decoding: DecodingKey::from_secret(secret),
                    encoding: Some(EncodingKey::from_secret(secret)),
                    algorithm: Algorithm::HS256,
                    issuer,
                }
            }
            KeySource::Rsa { public_pem, private_pem } => Self {
                decoding: DecodingKey::from_rsa_pem(public_pem)
                    .map_err(|e| anyhow::anyhow!("the RS256 public key is not a PEM RSA key: {e}"))?,
                encoding: private_pem
                    .as_deref()
                    .map(EncodingKey::from_rsa_pem)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("the RS256 private key is not a PEM RSA key: {e}"))?,
                algorithm: Algorithm::RS256,
                issuer,
            },
        })
    }

    /// The principal of an `Authorization` header value; no header is the public role.
    pub fn principal(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let Some(value) = authorization else { return Ok(Principal::default()) };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(AuthError::Malformed)?;
        self.verify(token)
    }

    /// Checks signature, algorithm, expiry (no leeway) and issuer.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let mut validation = Validation::new(self.algorithm);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        Ok(Principal { subject: Some(data.claims.sub), role: data.claims.role, expires_at: Some(data.claims.exp) })
    }

    /// A signed token for `subject` with `role`, valid for `ttl` (the `token` command, tests).
    pub fn issue(&self, subject: &str, role: Role, ttl: Duration) -> anyhow::Result<String> {
        let encoding = self
            .encoding
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("signing RS256 tokens needs the private key (--jwt-private-key)"))?;
        let now = now_secs();
        let claims =
            Claims { sub: subject.to_owned(), role, iss: self.issuer.clone(), iat: now, exp: now + ttl.as_secs() };
        Ok(jsonwebtoken::encode(&Header::new(self.algorithm), &claims, encoding)?)
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The local development secret: read from `path`, or created there (random, owner-only) on
/// first use, so `samverka token` and `samverka serve` agree without configuration. Production
/// sets `SAMVERKA_JWT_SECRET` or an RS256 public key instead.
pub fn local_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let secret = text.trim().as_bytes().to_vec();
        anyhow::ensure!(secret.len() >= 32, "{} holds a secret shorter than 32 bytes", path.display());
        return Ok(secret);
    }
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &secret)?;
    tracing::warn!(path = %path.display(), "created a local JWT secret; set SAMVERKA_JWT_SECRET in production");
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    Ok(std::fs::write(path, text)?)
}

/// Authentication settings as the command line gives them.
#[derive(Clone, Debug, clap::Args)]
pub struct AuthArgs {
    /// HS256 secret (at least 32 bytes). Without it and without --jwt-public-key, a local secret
    /// file is used (see --jwt-secret-file).
    #[arg(long, env = "SAMVERKA_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Local secret file, created on first use when no secret or public key is configured.
    #[arg(long, env = "SAMVERKA_JWT_SECRET_FILE", default_value = "samverka.jwt-secret", global = true)]
    pub jwt_secret_file: PathBuf,

    /// RS256 public key (PEM file) to verify tokens with, instead of a shared secret.
    #[arg(long, env = "SAMVERKA_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<PathBuf>,

    /// RS256 private key (PEM file): only `samverka token` needs it, to sign.
    #[arg(long, env = "SAMVERKA_JWT_PRIVATE_KEY", global = true)]
    pub jwt_private_key: Option<PathBuf>,

    /// Expected `iss` claim.
    #[arg(long, env = "SAMVERKA_JWT_ISSUER", default_value = "samverka", global = true)]
    pub jwt_issuer: String,
}

impl AuthArgs {
    pub fn authenticator(&self) -> anyhow::Result<Authenticator> {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read key file {}: {e}", path.display()))
        };
        let keys = match (&self.jwt_secret, &self.jwt_public_key) {
            (Some(_), Some(_)) => anyhow::bail!("give either --jwt-secret or --jwt-public-key, not both"),
            (Some(secret), None) => KeySource::Secret(secret.as_bytes().to_vec()),
            (None, Some(public)) => KeySource::Rsa {
                public_pem: read(public)?,
                private_pem: self.jwt_private_key.as_ref().map(read).transpose()?,
            },
            (None, None) => KeySource::Secret(local_secret(&self.jwt_secret_file)?),
        };
        Authenticator::new(&keys, self.jwt_issuer.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs() -> Authenticator {
        Authenticator::new(&KeySource::Secret(vec![7; 32]), "samverka").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tokens_round_trip_and_forgeries_fail() {
        let auth = hs();
        let token = auth.issue("ada", Role::Editor, Duration::from_secs(60)).unwrap_or_default();
        let principal = auth.principal(Some(&format!("Bearer {token}"))).ok();
        assert_eq!(principal.map(|p| p.role), Some(Role::Editor));
        let other = Authenticator::new(&KeySource::Secret(vec![8; 32]), "samverka").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(other.verify(&token), Err(AuthError::Invalid)));
        let foreign =
            Authenticator::new(&KeySource::Secret(vec![7; 32]), "elsewhere").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(foreign.verify(&token), Err(AuthError::Invalid)));
        assert!(matches!(auth.principal(Some("Basic abc")), Err(AuthError::Malformed)));
        assert_eq!(auth.principal(None).ok().map(|p| p.role), Some(Role::Public));
    }
}
