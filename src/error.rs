//! The one error type that reaches an HTTP response, and its contract mapping.
//!
//! Every failure the API reports is an [`ApiError`]: it knows its HTTP status,
//! a stable machine-readable `code`, and a message written for the operator
//! who reads it (what happened, and what to do next). Internal details
//! (JavaScript exceptions, SQL errors, stack traces) go to the log through
//! [`ApiError::internal`]; the response says only that something failed and
//! where to look.

use serde::Serialize;

/// An error as the API reports it: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request itself is malformed (400): bad JSON, a bad parameter.
    #[error("{0}")]
    BadRequest(String),
    /// No bearer token, or one that matches neither configured token (401).
    #[error("a valid bearer token is required: send 'Authorization: Bearer <token>' with READ_TOKEN or ADMIN_TOKEN")]
    Unauthorized,
    /// The read token was used on a route that needs the admin token (403).
    #[error("this route needs the admin token (ADMIN_TOKEN); the read token only lists, shows and validates")]
    Forbidden,
    /// No such route, backup or report (404).
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not for this method (405).
    #[error("{method} is not allowed on {path}; allowed: {allowed}")]
    MethodNotAllowed {
        /// The method the client used.
        method: String,
        /// The request path.
        path: String,
        /// The methods the route accepts, comma-separated.
        allowed: &'static str,
    },
    /// A conflict with the current state (409): the confirmation does not
    /// match, the environment differs, the backup is pinned or exists.
    #[error("{0}")]
    Conflict(String),
    /// Another exclusive job is unfinished (409, code `job_running`); the
    /// message names it and says how to follow or cancel it.
    #[error("{0}")]
    JobRunning(String),
    /// The request body is larger than the route accepts (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A backup failed validation (422).
    #[error("{0}")]
    Unprocessable(String),
    /// A secret or variable the route needs is missing or invalid (503):
    /// the worker fails closed rather than open.
    #[error("{0}")]
    NotConfigured(String),
    /// Something failed inside the worker (500); details are in the log.
    #[error("internal error ({context}); details are in the worker log (wrangler tail)")]
    Internal {
        /// What the worker was doing, safe to show (no values, no secrets).
        context: String,
    },
}

impl ApiError {
    /// An internal failure: `context` is shown, `detail` must only be logged.
    pub fn internal(context: impl Into<String>) -> Self {
        Self::Internal {
            context: context.into(),
        }
    }

    /// The HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict(_) | Self::JobRunning(_) => 409,
            Self::PayloadTooLarge(_) => 413,
            Self::Unprocessable(_) => 422,
            Self::Internal { .. } => 500,
            Self::NotConfigured(_) => 503,
        }
    }

    /// A stable, machine-readable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::JobRunning(_) => "job_running",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Unprocessable(_) => "validation_failed",
            Self::Internal { .. } => "internal",
            Self::NotConfigured(_) => "not_configured",
        }
    }

    /// The JSON body of the response.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
            },
        }
    }
}

/// The JSON envelope of an error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// The code and message of an error response.
#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    /// See [`ApiError::code`].
    pub code: &'static str,
    /// See the `Display` of [`ApiError`].
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_contract_status() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400, "bad_request"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::Forbidden, 403, "forbidden"),
            (ApiError::NotFound("x".into()), 404, "not_found"),
            (ApiError::Conflict("x".into()), 409, "conflict"),
            (ApiError::JobRunning("x".into()), 409, "job_running"),
            (
                ApiError::PayloadTooLarge("x".into()),
                413,
                "payload_too_large",
            ),
            (
                ApiError::Unprocessable("x".into()),
                422,
                "validation_failed",
            ),
            (ApiError::internal("reading state"), 500, "internal"),
            (ApiError::NotConfigured("x".into()), 503, "not_configured"),
        ];
        for (error, status, code) in cases {
            assert_eq!((error.status(), error.code()), (status, code), "{error:?}");
        }
    }

    #[test]
    fn body_has_the_contract_shape() {
        let json = serde_json::to_value(ApiError::NotFound("no backup 'x'".into()).body()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "not_found", "message": "no backup 'x'"}})
        );
    }

    #[test]
    fn internal_errors_show_context_only() {
        let message = ApiError::internal("reading backup state").to_string();
        assert!(message.contains("reading backup state"));
        assert!(message.contains("wrangler tail"));
    }
}
