//! Production's per-invocation limits, enforced where the local runtime
//! does not enforce them.
//!
//! `wrangler dev --local` lets one invocation run any number of D1 queries
//! and subrequests; production stops it at a limit. With
//! `ENFORCE_PLATFORM_LIMITS` set (every end-to-end run and `./scripts/dev`),
//! the edge gives each invocation (an HTTP request, a cron event, a Durable
//! Object request or alarm) an [`InvocationCounter`], counts every D1
//! statement and every subrequest through it, and fails the call that goes
//! over the limit, as production would. So no test passes locally that
//! would die in production.

use std::cell::Cell;

/// One plan's per-invocation limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PlatformLimits {
    /// The plan's name, for messages.
    pub plan: &'static str,
    /// D1 queries per invocation (each statement of a batch counts).
    pub d1_queries: u64,
    /// Subrequests per invocation (D1, R2 and fetch calls).
    pub subrequests: u64,
}

/// Workers Paid: 1,000 D1 queries, 10,000 subrequests per invocation.
pub const PAID: PlatformLimits = PlatformLimits {
    plan: "paid",
    d1_queries: 1_000,
    subrequests: 10_000,
};

/// Workers Free: 50 D1 queries, 1,000 subrequests per invocation.
pub const FREE: PlatformLimits = PlatformLimits {
    plan: "free",
    d1_queries: 50,
    subrequests: 1_000,
};

impl PlatformLimits {
    /// The limits of the plan named `name` (`paid` or `free`).
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "paid" => Some(PAID),
            "free" => Some(FREE),
            _ => None,
        }
    }
}

/// An invocation went over a production limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this invocation made {used} {what}; production ({plan} plan) allows {limit} per invocation \
     and would have failed here (ENFORCE_PLATFORM_LIMITS)"
)]
pub struct LimitExceeded {
    /// What was counted.
    pub what: &'static str,
    /// How many, this one included.
    pub used: u64,
    /// The limit.
    pub limit: u64,
    /// The plan.
    pub plan: &'static str,
}

/// What one invocation has used; enforcing only when given limits.
#[derive(Debug, Default)]
pub struct InvocationCounter {
    limits: Option<PlatformLimits>,
    d1_queries: Cell<u64>,
    subrequests: Cell<u64>,
}

impl InvocationCounter {
    /// A counter for a new invocation, enforcing `limits` if given.
    pub fn new(limits: Option<PlatformLimits>) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Counts one D1 call of `statements` statements (one subrequest).
    pub fn d1_call(&self, statements: u64) -> Result<(), LimitExceeded> {
        self.subrequest()?;
        let used = self.d1_queries.get() + statements;
        self.d1_queries.set(used);
        match self.limits {
            Some(limits) if used > limits.d1_queries => Err(LimitExceeded {
                what: "D1 queries",
                used,
                limit: limits.d1_queries,
                plan: limits.plan,
            }),
            _ => Ok(()),
        }
    }

    /// Counts one subrequest (an R2 call, a fetch, a Durable Object call).
    pub fn subrequest(&self) -> Result<(), LimitExceeded> {
        let used = self.subrequests.get() + 1;
        self.subrequests.set(used);
        match self.limits {
            Some(limits) if used > limits.subrequests => Err(LimitExceeded {
                what: "subrequests",
                used,
                limit: limits.subrequests,
                plan: limits.plan,
            }),
            _ => Ok(()),
        }
    }

    /// D1 queries and subrequests counted so far.
    pub fn used(&self) -> (u64, u64) {
        (self.d1_queries.get(), self.subrequests.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_plan_fails_the_fifty_first_d1_query_of_an_invocation() {
        let counter = InvocationCounter::new(Some(FREE));
        for _ in 0..49 {
            counter.d1_call(1).unwrap();
        }
        counter.d1_call(1).unwrap();
        let error = counter.d1_call(1).unwrap_err();
        assert_eq!((error.used, error.limit), (51, 50));
        assert!(error.to_string().contains("free plan"), "{error}");
    }

    #[test]
    fn every_statement_of_a_batch_counts_as_a_query_and_the_batch_as_one_subrequest() {
        let counter = InvocationCounter::new(Some(PAID));
        counter.d1_call(999).unwrap();
        assert_eq!(counter.used(), (999, 1));
        assert!(counter.d1_call(2).is_err());
    }

    #[test]
    fn subrequests_over_the_limit_fail() {
        let counter = InvocationCounter::new(Some(FREE));
        for _ in 0..1_000 {
            counter.subrequest().unwrap();
        }
        assert_eq!(counter.subrequest().unwrap_err().what, "subrequests");
    }

    #[test]
    fn without_limits_nothing_fails_but_everything_is_counted() {
        let counter = InvocationCounter::new(None);
        counter.d1_call(5_000).unwrap();
        for _ in 0..20_000 {
            counter.subrequest().unwrap();
        }
        assert_eq!(counter.used(), (5_000, 20_001));
    }
}
