//! Rate limiting per token and endpoint, as seed 000 does: an average of
//! `per_second` requests, with a burst of two seconds' worth. Over the
//! limit a request gets 429 with `Retry-After` and is not processed. A
//! batch counts as one request however many entries it carries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use tapster_api::ErrorBody;

/// Buckets not touched for this long are forgotten.
const IDLE_SECS: f64 = 600.0;

#[derive(Clone)]
pub struct RateLimit {
    /// Average requests per second per token and endpoint; 0 switches the
    /// limit off (benchmarks, trusted networks).
    per_second: f64,
    buckets: Arc<Mutex<Buckets>>,
}

struct Buckets {
    map: HashMap<(String, String), Bucket>,
    last_sweep: Instant,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimit {
    pub fn new(per_second: f64) -> Self {
        RateLimit {
            per_second: per_second.max(0.0),
            buckets: Arc::new(Mutex::new(Buckets {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            })),
        }
    }

    fn burst(&self) -> f64 {
        (self.per_second * 2.0).max(1.0)
    }

    /// Takes one request from the bucket of `(who, endpoint)`; when empty,
    /// the seconds until the next request is allowed.
    fn take(&self, who: String, endpoint: String, now: Instant) -> Result<(), u64> {
        if self.per_second == 0.0 {
            return Ok(());
        }
        let burst = self.burst();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if now.duration_since(buckets.last_sweep).as_secs_f64() > IDLE_SECS {
            buckets
                .map
                .retain(|_, b| now.duration_since(b.updated).as_secs_f64() < IDLE_SECS);
            buckets.last_sweep = now;
        }
        let bucket = buckets.map.entry((who, endpoint)).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// Who is asking: a hash of the bearer token (never the token itself, so
/// it cannot leak through this map), or "anonymous".
fn caller(request: &Request) -> String {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| hex::encode(&Sha256::digest(v.as_bytes())[..12]))
        .unwrap_or_else(|| "anonymous".into())
}

pub async fn limit(State(limit): State<RateLimit>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let endpoint = format!("{} {endpoint}", request.method());
    let seed_000 = endpoint.contains(crate::wristcoin::PREFIX);
    match limit.take(caller(&request), endpoint, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            let message = format!("too many requests, please wait {retry_after} s");
            // Seed 000's objects answer with its numeric error code.
            let mut response = if seed_000 {
                crate::wristcoin::SeedError(StatusCode::TOO_MANY_REQUESTS, message).into_response()
            } else {
                let body = ErrorBody {
                    error_code: "rate_limited".into(),
                    error_message: message,
                };
                (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
            };
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_a_burst_then_the_average() {
        let limit = RateLimit::new(5.0);
        let start = Instant::now();
        for _ in 0..10 {
            assert!(limit.take("t".into(), "e".into(), start).is_ok());
        }
        assert_eq!(limit.take("t".into(), "e".into(), start), Err(1));
        // Another endpoint and another caller have their own buckets.
        assert!(limit.take("t".into(), "other".into(), start).is_ok());
        assert!(limit.take("u".into(), "e".into(), start).is_ok());
        // 200 ms later one more request is allowed.
        let later = start + Duration::from_millis(200);
        assert!(limit.take("t".into(), "e".into(), later).is_ok());
        assert!(limit.take("t".into(), "e".into(), later).is_err());
    }

    #[test]
    fn zero_switches_it_off() {
        let limit = RateLimit::new(0.0);
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(limit.take("t".into(), "e".into(), now).is_ok());
        }
    }
}
