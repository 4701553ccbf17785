//! Per-token rate limits: a token bucket in memory for each token, refilled continuously at
//! the configured rate up to the burst size. A request that finds its bucket empty is
//! answered 429 with `Retry-After` and the JSON error; nothing else is done for it (no
//! evaluation, no record). Buckets live as long as the process: a restart refills them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many requests a token may make: `per_second` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second, on average (greater than 0).
    pub per_second: f64,
    /// Bucket size: requests that may arrive at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl RateLimit {
    /// A limit, or `None` when `per_second` is not above 0 (no limit); a burst of 0 is
    /// taken as 1.
    #[must_use]
    pub fn new(per_second: f64, burst: u32) -> Option<RateLimit> {
        (per_second.is_finite() && per_second > 0.0).then_some(RateLimit {
            per_second,
            burst: burst.max(1),
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every token that made a request, keyed by token id.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl RateLimiter {
    /// A limiter applying `limit` to each token (`None`: no limit).
    #[must_use]
    pub fn new(limit: Option<RateLimit>) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: Mutex::default(),
        }
    }

    /// The limit applied, if any.
    #[must_use]
    pub fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Takes one request from the token's bucket now.
    ///
    /// # Errors
    /// When the bucket is empty: how long until it holds a request again.
    pub fn check(&self, token_id: i64) -> Result<(), Duration> {
        self.check_at(token_id, Instant::now())
    }

    /// [`RateLimiter::check`] at a given instant (tests drive the clock).
    ///
    /// # Errors
    /// When the bucket is empty: how long until it holds a request again.
    pub fn check_at(&self, token_id: i64, now: Instant) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let burst = f64::from(limit.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(token_id).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(burst);
        bucket.at = now.max(bucket.at);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / limit.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(RateLimit::new(2.0, 3));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at(1, t0), Ok(()));
        }
        let wait = limiter.check_at(1, t0).err().unwrap_or_default();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        // Another token has its own bucket.
        assert_eq!(limiter.check_at(2, t0), Ok(()));
        // Half a second later one request is back, not two.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.check_at(1, t1), Ok(()));
        assert!(limiter.check_at(1, t1).is_err());
        // A long quiet spell refills to the burst, never beyond.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.check_at(1, t2), Ok(()));
        }
        assert!(limiter.check_at(1, t2).is_err());
    }

    #[test]
    fn no_limit_when_the_rate_is_not_positive() {
        assert_eq!(RateLimit::new(0.0, 10), None);
        assert_eq!(RateLimit::new(f64::NAN, 10), None);
        let limiter = RateLimiter::new(RateLimit::new(0.0, 1));
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert_eq!(limiter.check_at(1, t0), Ok(()));
        }
        assert_eq!(RateLimit::new(1.0, 0).map(|l| l.burst), Some(1));
    }
}
