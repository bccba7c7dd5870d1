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
    /// `GET /v1/backups?limit=&cursor=`: complete backups, newest first.
    ListBackups,
    /// `POST /v1/backups`: take a backup now.
    CreateBackup,
    /// `GET /v1/backups/{id}`: a backup's manifest.
    GetBackup(String),
    /// `DELETE /v1/backups/{id}[?force=true]`.
    DeleteBackup(String),
    /// `POST /v1/backups/import`: an object made by `d1-vault encrypt`.
    ImportBackup,
    /// `POST /v1/imports`: start uploading an object in parts.
    StartImport,
    /// `PUT /v1/imports/{id}/parts/{n}?upload_id=`: one part of an upload;
    /// the part number as given.
    ImportPart(String, String),
    /// `POST /v1/imports/{id}/complete?upload_id=`: the upload is whole;
    /// check it in an import job.
    CompleteImport(String),
    /// `DELETE /v1/imports/{id}?upload_id=`: abort an upload.
    AbortImport(String),
    /// `POST /v1/backups/{id}/validate`: steps 1-5, nothing written.
    ValidateBackup(String),
    /// `POST /v1/backups/{id}/restore`: the ten steps, as a job.
    RestoreBackup(String),
    /// `GET /v1/restores/{id}`: a restore's report.
    GetRestore(String),
    /// `GET /v1/jobs?limit=`: recent jobs, newest first.
    ListJobs,
    /// `GET /v1/jobs/{id}`: one job's record.
    GetJob(String),
    /// `GET /v1/jobs/{id}/events?after=N`: a job's events after N.
    JobEvents(String),
    /// `POST /v1/jobs/{id}/cancel`: stop a job.
    CancelJob(String),
    /// `GET /v1/retention`: the retention plan, as a dry run.
    Retention,
    /// `GET /v1/status`: last runs, configuration summary, key ids.
    Status,
    /// `POST /v1/test/encrypt?id=<backup id>`: the request body encrypted
    /// with the worker's current key (test routes only).
    TestEncrypt,
    /// `POST /v1/test/decrypt?id=<backup id>`: the request body authenticated
    /// and decrypted, or the format error (test routes only).
    TestDecrypt,
    /// `POST /v1/test/bench?op=generate|encrypt|roundtrip&mib=N`: a CPU-bound
    /// pass over N MiB of generated SQL, for the benchmark (test routes only).
    TestBench,
    /// `POST /v1/test/floor?page_rows=N`: the benchmark's floor, every rowid
    /// table read in pages with SQLite building the rows' text, which is
    /// then discarded (test routes only).
    TestFloor,
}

impl Route {
    /// Resolves `method` and `path` (without the query string).
    pub fn resolve(method: &str, path: &str) -> Result<Self, ApiError> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let (route, allowed) = match (segments.as_slice(), method) {
            (["health"], _) => (Route::Health, "GET"),
            (["v1", "backups"], "POST") => (Route::CreateBackup, "POST"),
            (["v1", "backups"], _) => (Route::ListBackups, "GET"),
            (["v1", "backups", "import"], _) => (Route::ImportBackup, "POST"),
            (["v1", "backups", id], "DELETE") if !id.is_empty() => {
                (Route::DeleteBackup((*id).to_owned()), "DELETE")
            }
            (["v1", "backups", id], _) if !id.is_empty() => {
                (Route::GetBackup((*id).to_owned()), "GET")
            }
            (["v1", "backups", id, "validate"], _) if !id.is_empty() => {
                (Route::ValidateBackup((*id).to_owned()), "POST")
            }
            (["v1", "backups", id, "restore"], _) if !id.is_empty() => {
                (Route::RestoreBackup((*id).to_owned()), "POST")
            }
            (["v1", "imports"], _) => (Route::StartImport, "POST"),
            (["v1", "imports", id], _) if !id.is_empty() => {
                (Route::AbortImport((*id).to_owned()), "DELETE")
            }
            (["v1", "imports", id, "parts", part], _) if !id.is_empty() => (
                Route::ImportPart((*id).to_owned(), (*part).to_owned()),
                "PUT",
            ),
            (["v1", "imports", id, "complete"], _) if !id.is_empty() => {
                (Route::CompleteImport((*id).to_owned()), "POST")
            }
            (["v1", "restores", id], _) if !id.is_empty() => {
                (Route::GetRestore((*id).to_owned()), "GET")
            }
            (["v1", "jobs"], _) => (Route::ListJobs, "GET"),
            (["v1", "jobs", id], _) if !id.is_empty() => (Route::GetJob((*id).to_owned()), "GET"),
            (["v1", "jobs", id, "events"], _) if !id.is_empty() => {
                (Route::JobEvents((*id).to_owned()), "GET")
            }
            (["v1", "jobs", id, "cancel"], _) if !id.is_empty() => {
                (Route::CancelJob((*id).to_owned()), "POST")
            }
            (["v1", "retention"], _) => (Route::Retention, "GET"),
            (["v1", "status"], _) => (Route::Status, "GET"),
            (["v1", "test", "encrypt"], _) => (Route::TestEncrypt, "POST"),
            (["v1", "test", "decrypt"], _) => (Route::TestDecrypt, "POST"),
            (["v1", "test", "bench"], _) => (Route::TestBench, "POST"),
            (["v1", "test", "floor"], _) => (Route::TestFloor, "POST"),
            _ => {
                return Err(ApiError::NotFound(format!(
                    "no route {path}; see the route table in README.md (GET /health, /v1/...)"
                )))
            }
        };
        let allowed = match route {
            Route::ListBackups | Route::CreateBackup => "GET, POST",
            Route::GetBackup(_) | Route::DeleteBackup(_) => "GET, DELETE",
            _ => allowed,
        };
        let accepted = allowed.split(", ").any(|m| m == method)
            || (method == "HEAD" && allowed.contains("GET"));
        if accepted {
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
        matches!(
            self,
            Route::TestEncrypt | Route::TestDecrypt | Route::TestBench | Route::TestFloor
        )
    }

    /// The token the route requires.
    pub fn access(&self) -> Access {
        match self {
            Route::Health => Access::Public,
            Route::ListBackups
            | Route::GetBackup(_)
            | Route::ValidateBackup(_)
            | Route::GetRestore(_)
            | Route::ListJobs
            | Route::GetJob(_)
            | Route::JobEvents(_)
            | Route::Retention
            | Route::Status => Access::Read,
            Route::CreateBackup
            | Route::DeleteBackup(_)
            | Route::RestoreBackup(_)
            | Route::CancelJob(_)
            | Route::ImportBackup
            | Route::StartImport
            | Route::ImportPart(..)
            | Route::CompleteImport(_)
            | Route::AbortImport(_) => Access::Admin,
            Route::TestEncrypt | Route::TestDecrypt | Route::TestBench | Route::TestFloor => {
                Access::Admin
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_the_job_routes_with_their_access() {
        assert_eq!(Route::resolve("GET", "/v1/jobs"), Ok(Route::ListJobs));
        assert_eq!(
            Route::resolve("GET", "/v1/jobs/j1"),
            Ok(Route::GetJob("j1".into()))
        );
        assert_eq!(
            Route::resolve("GET", "/v1/jobs/j1/events"),
            Ok(Route::JobEvents("j1".into()))
        );
        let cancel = Route::resolve("POST", "/v1/jobs/j1/cancel").unwrap();
        assert_eq!(cancel, Route::CancelJob("j1".into()));
        assert_eq!(cancel.access(), Access::Admin);
        assert_eq!(Route::GetJob("j1".into()).access(), Access::Read);
        assert!(Route::resolve("GET", "/v1/jobs/j1/cancel").is_err());
        assert!(Route::resolve("POST", "/v1/jobs").is_err());
    }

    #[test]
    fn resolves_the_import_in_parts_routes_for_the_admin_only() {
        let routes = [
            ("POST", "/v1/imports", Route::StartImport),
            (
                "PUT",
                "/v1/imports/imp-1/parts/3",
                Route::ImportPart("imp-1".into(), "3".into()),
            ),
            (
                "POST",
                "/v1/imports/imp-1/complete/",
                Route::CompleteImport("imp-1".into()),
            ),
            (
                "DELETE",
                "/v1/imports/imp-1",
                Route::AbortImport("imp-1".into()),
            ),
        ];
        for (method, path, route) in routes {
            let resolved = Route::resolve(method, path).unwrap();
            assert_eq!(resolved, route, "{method} {path}");
            assert_eq!(resolved.access(), Access::Admin, "{method} {path}");
            assert!(!resolved.is_test_only());
        }
        // The part number is checked by the handler (400), not here.
        assert_eq!(
            Route::resolve("PUT", "/v1/imports/imp-1/parts/x"),
            Ok(Route::ImportPart("imp-1".into(), "x".into()))
        );
        for (method, path, allowed) in [
            ("GET", "/v1/imports", "POST"),
            ("POST", "/v1/imports/imp-1/parts/1", "PUT"),
            ("GET", "/v1/imports/imp-1", "DELETE"),
            ("PUT", "/v1/imports/imp-1/complete", "POST"),
        ] {
            let error = Route::resolve(method, path).unwrap_err();
            assert_eq!(error.status(), 405, "{method} {path}");
            assert!(
                error.to_string().ends_with(&format!("allowed: {allowed}")),
                "{error}"
            );
        }
        for path in [
            "/v1/imports//parts/1",
            "/v1/imports/imp-1/parts",
            "/v1/imports/imp-1/parts/1/x",
            "/v1/imports/imp-1/abort",
        ] {
            assert_eq!(
                Route::resolve("PUT", path).unwrap_err().status(),
                404,
                "{path}"
            );
        }
    }

    #[test]
    fn resolves_known_routes() {
        assert_eq!(Route::resolve("GET", "/health"), Ok(Route::Health));
        assert_eq!(Route::resolve("GET", "/health/"), Ok(Route::Health));
        assert_eq!(Route::resolve("HEAD", "/health"), Ok(Route::Health));
        assert_eq!(Route::resolve("GET", "/v1/backups"), Ok(Route::ListBackups));
        assert_eq!(
            Route::resolve("POST", "/v1/backups/"),
            Ok(Route::CreateBackup)
        );
        assert_eq!(
            Route::resolve("GET", "/v1/backups/abc"),
            Ok(Route::GetBackup("abc".into()))
        );
        assert_eq!(
            Route::resolve("DELETE", "/v1/backups/abc"),
            Ok(Route::DeleteBackup("abc".into()))
        );
        assert_eq!(
            Route::resolve("POST", "/v1/backups/abc/validate"),
            Ok(Route::ValidateBackup("abc".into()))
        );
        assert_eq!(
            Route::resolve("POST", "/v1/backups/abc/restore"),
            Ok(Route::RestoreBackup("abc".into()))
        );
        assert_eq!(
            Route::resolve("GET", "/v1/restores/r1"),
            Ok(Route::GetRestore("r1".into()))
        );
        assert_eq!(
            Route::resolve("POST", "/v1/backups/import"),
            Ok(Route::ImportBackup)
        );
        assert_eq!(
            Route::resolve("GET", "/v1/backups/abc/restore")
                .unwrap_err()
                .status(),
            405
        );
        assert_eq!(Route::resolve("GET", "/v1/retention"), Ok(Route::Retention));
        assert_eq!(Route::resolve("GET", "/v1/status"), Ok(Route::Status));
        assert_eq!(
            Route::resolve("POST", "/v1/test/encrypt"),
            Ok(Route::TestEncrypt)
        );
        assert_eq!(
            Route::resolve("POST", "/v1/test/decrypt"),
            Ok(Route::TestDecrypt)
        );
        assert_eq!(
            Route::resolve("POST", "/v1/test/bench"),
            Ok(Route::TestBench)
        );
        assert_eq!(
            Route::resolve("POST", "/v1/test/floor"),
            Ok(Route::TestFloor)
        );
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in ["/", "/healthz", "/v1", "/v1/backups/x/y/z", "/health/extra"] {
            assert_eq!(
                Route::resolve("GET", path).unwrap_err().status(),
                404,
                "{path}"
            );
        }
    }

    #[test]
    fn wrong_methods_are_405_and_name_the_allowed_ones() {
        let error = Route::resolve("POST", "/health").unwrap_err();
        assert_eq!(error.status(), 405);
        assert!(error.to_string().contains("GET"));
        let error = Route::resolve("PUT", "/v1/backups/abc").unwrap_err();
        assert_eq!(error.status(), 405);
        assert!(error.to_string().contains("GET, DELETE"), "{error}");
        assert_eq!(
            Route::resolve("DELETE", "/v1/backups")
                .unwrap_err()
                .status(),
            405
        );
    }

    #[test]
    fn write_routes_need_admin_and_read_routes_the_read_token() {
        assert_eq!(Route::CreateBackup.access(), Access::Admin);
        assert_eq!(Route::DeleteBackup("x".into()).access(), Access::Admin);
        assert_eq!(Route::RestoreBackup("x".into()).access(), Access::Admin);
        assert_eq!(Route::ValidateBackup("x".into()).access(), Access::Read);
        for route in [
            Route::ListBackups,
            Route::GetBackup("x".into()),
            Route::Retention,
            Route::Status,
        ] {
            assert_eq!(route.access(), Access::Read, "{route:?}");
        }
    }

    #[test]
    fn only_health_is_public_and_test_routes_need_admin() {
        assert_eq!(Route::Health.access(), Access::Public);
        assert!(!Route::Health.is_test_only());
        for route in [
            Route::TestEncrypt,
            Route::TestDecrypt,
            Route::TestBench,
            Route::TestFloor,
        ] {
            assert_eq!(route.access(), Access::Admin);
            assert!(route.is_test_only());
        }
    }
}
