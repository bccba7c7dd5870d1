//! The API's route table: from a method and a path to a [`Route`], and the
//! access each route requires.
//!
//! Pure, so the whole table is tested natively. An unknown path is a JSON 404
//! and a known path with the wrong method a JSON 405, both per the contract.

use crate::auth::Access;
use crate::error::ApiError;

/// Every route the worker serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`.
    Health,
    /// `POST /v1/test/encrypt?id=<backup id>`: the request body encrypted
    /// with the worker's current key (test routes only).
    TestEncrypt,
    /// `POST /v1/test/decrypt?id=<backup id>`: the request body authenticated
    /// and decrypted, or the format error (test routes only).
    TestDecrypt,
    /// `POST /v1/test/bench?op=generate|encrypt|roundtrip&mib=N`: a CPU-bound
    /// pass over N MiB of generated SQL, for the benchmark (test routes only).
    TestBench,
}

impl Route {
    /// Resolves `method` and `path` (without the query string).
    pub fn resolve(method: &str, path: &str) -> Result<Self, ApiError> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let (route, allowed) = match segments.as_slice() {
            ["health"] => (Route::Health, "GET"),
            ["v1", "test", "encrypt"] => (Route::TestEncrypt, "POST"),
            ["v1", "test", "decrypt"] => (Route::TestDecrypt, "POST"),
            ["v1", "test", "bench"] => (Route::TestBench, "POST"),
            _ => {
                return Err(ApiError::NotFound(format!(
                    "no route {path}; see the route table in README.md (GET /health, /v1/...)"
                )))
            }
        };
        if method == allowed || (method == "HEAD" && allowed == "GET") {
            Ok(route)
        } else {
            Err(ApiError::MethodNotAllowed {
                method: method.to_owned(),
                path: path.to_owned(),
                allowed,
            })
        }
    }

    /// Whether the route exists only when `ENABLE_TEST_ROUTES` is set.
    pub fn is_test_only(&self) -> bool {
        matches!(self, Route::TestEncrypt | Route::TestDecrypt | Route::TestBench)
    }

    /// The token the route requires.
    pub fn access(&self) -> Access {
        match self {
            Route::Health => Access::Public,
            Route::TestEncrypt | Route::TestDecrypt | Route::TestBench => Access::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_known_routes() {
        assert_eq!(Route::resolve("GET", "/health"), Ok(Route::Health));
        assert_eq!(Route::resolve("GET", "/health/"), Ok(Route::Health));
        assert_eq!(Route::resolve("HEAD", "/health"), Ok(Route::Health));
        assert_eq!(Route::resolve("POST", "/v1/test/encrypt"), Ok(Route::TestEncrypt));
        assert_eq!(Route::resolve("POST", "/v1/test/decrypt"), Ok(Route::TestDecrypt));
        assert_eq!(Route::resolve("POST", "/v1/test/bench"), Ok(Route::TestBench));
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in ["/", "/healthz", "/v1", "/v1/backups/x/y/z", "/health/extra"] {
            assert_eq!(Route::resolve("GET", path).unwrap_err().status(), 404, "{path}");
        }
    }

    #[test]
    fn wrong_methods_are_405_and_name_the_allowed_one() {
        let error = Route::resolve("POST", "/health").unwrap_err();
        assert_eq!(error.status(), 405);
        assert!(error.to_string().contains("GET"));
    }

    #[test]
    fn only_health_is_public_and_test_routes_need_admin() {
        assert_eq!(Route::Health.access(), Access::Public);
        assert!(!Route::Health.is_test_only());
        for route in [Route::TestEncrypt, Route::TestDecrypt, Route::TestBench] {
            assert_eq!(route.access(), Access::Admin);
            assert!(route.is_test_only());
        }
    }
}
