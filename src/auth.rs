//! Bearer-token authorization for the HTTP API.
//!
//! Two secrets: `READ_TOKEN` opens the read routes (and validation);
//! `ADMIN_TOKEN` opens everything. Tokens are compared in constant time.
//! A route whose token is not configured answers 503: a missing secret
//! fails closed, never open.

use crate::error::ApiError;
use sha2::{Digest, Sha256};

/// What a route requires of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (only `/health`).
    Public,
    /// `READ_TOKEN` or `ADMIN_TOKEN`.
    Read,
    /// `ADMIN_TOKEN`.
    Admin,
}

/// The configured API tokens; `None` where the secret is not set.
#[derive(Clone, Default)]
pub struct Tokens {
    /// `READ_TOKEN`.
    pub read: Option<String>,
    /// `ADMIN_TOKEN`.
    pub admin: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("read", &self.read.as_ref().map(|_| "<set>"))
            .field("admin", &self.admin.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Decides whether a request with this `Authorization` header may use a
/// route that requires `access`.
pub fn authorize(
    access: Access,
    authorization: Option<&str>,
    tokens: &Tokens,
) -> Result<(), ApiError> {
    let admin = tokens.admin.as_deref();
    let read = tokens.read.as_deref();
    match access {
        Access::Public => return Ok(()),
        Access::Admin if admin.is_none() => {
            return Err(ApiError::NotConfigured(
                "ADMIN_TOKEN is not set: set it with 'wrangler secret put ADMIN_TOKEN'".into(),
            ))
        }
        Access::Read if admin.is_none() && read.is_none() => {
            return Err(ApiError::NotConfigured(
                "neither READ_TOKEN nor ADMIN_TOKEN is set: set them with 'wrangler secret put'"
                    .into(),
            ))
        }
        _ => {}
    }
    let presented = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let is_admin = admin.is_some_and(|expected| tokens_equal(presented, expected));
    let is_reader = read.is_some_and(|expected| tokens_equal(presented, expected));
    match access {
        Access::Admin if is_admin => Ok(()),
        Access::Admin if is_reader => Err(ApiError::Forbidden),
        Access::Read if is_admin || is_reader => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

/// Constant-time equality: both sides are hashed first, so neither the
/// position of the first difference nor the length leaks through timing.
fn tokens_equal(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> Tokens {
        Tokens {
            read: Some("reader-secret".into()),
            admin: Some("admin-secret".into()),
        }
    }

    #[test]
    fn public_routes_need_nothing() {
        assert_eq!(authorize(Access::Public, None, &Tokens::default()), Ok(()));
    }

    #[test]
    fn read_routes_accept_either_token() {
        assert_eq!(
            authorize(Access::Read, Some("Bearer reader-secret"), &both()),
            Ok(())
        );
        assert_eq!(
            authorize(Access::Read, Some("Bearer admin-secret"), &both()),
            Ok(())
        );
    }

    #[test]
    fn admin_routes_refuse_the_read_token_with_403() {
        assert_eq!(
            authorize(Access::Admin, Some("Bearer admin-secret"), &both()),
            Ok(())
        );
        assert_eq!(
            authorize(Access::Admin, Some("Bearer reader-secret"), &both()),
            Err(ApiError::Forbidden)
        );
    }

    #[test]
    fn missing_or_wrong_tokens_are_401() {
        for header in [
            None,
            Some(""),
            Some("Bearer "),
            Some("Basic abc"),
            Some("Bearer nope"),
            Some("reader-secret"),
        ] {
            assert_eq!(
                authorize(Access::Read, header, &both()),
                Err(ApiError::Unauthorized),
                "{header:?}"
            );
            assert_eq!(
                authorize(Access::Admin, header, &both()),
                Err(ApiError::Unauthorized),
                "{header:?}"
            );
        }
    }

    #[test]
    fn missing_secrets_fail_closed_with_503() {
        let none = Tokens::default();
        assert_eq!(
            authorize(Access::Read, Some("Bearer x"), &none)
                .unwrap_err()
                .status(),
            503
        );
        assert_eq!(
            authorize(Access::Admin, Some("Bearer x"), &none)
                .unwrap_err()
                .status(),
            503
        );
        let read_only = Tokens {
            read: Some("reader-secret".into()),
            admin: None,
        };
        assert_eq!(
            authorize(Access::Read, Some("Bearer reader-secret"), &read_only),
            Ok(())
        );
        assert_eq!(
            authorize(Access::Admin, Some("Bearer reader-secret"), &read_only)
                .unwrap_err()
                .status(),
            503
        );
    }

    #[test]
    fn debug_never_prints_tokens() {
        let text = format!("{:?}", both());
        assert!(!text.contains("secret"), "{text}");
    }
}
