//! Liveness, readiness and Prometheus metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

/// Request counters by status class and a latency histogram, rendered as Prometheus text.
#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

impl Metrics {
    pub(crate) fn observe(&self, status: StatusCode, secs: f64) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP wardwatch_http_requests_total HTTP requests answered, by status class.\n\
             # TYPE wardwatch_http_requests_total counter\n",
        );
        for (i, c) in self.by_class.iter().enumerate() {
            out.push_str(&format!(
                "wardwatch_http_requests_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                c.load(Ordering::Relaxed)
            ));
        }
        out.push_str(
            "# HELP wardwatch_http_request_duration_seconds Time to answer a request.\n\
             # TYPE wardwatch_http_request_duration_seconds histogram\n",
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            out.push_str(&format!(
                "wardwatch_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}\n",
                self.buckets[i].load(Ordering::Relaxed)
            ));
        }
        let count = self.count.load(Ordering::Relaxed);
        out.push_str(&format!(
            "wardwatch_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             wardwatch_http_request_duration_seconds_sum {}\n\
             wardwatch_http_request_duration_seconds_count {count}\n",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out
    }
}

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let skip = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| p.as_str() == "/metrics");
    let res = next.run(req).await;
    if !skip {
        state
            .metrics
            .observe(res.status(), start.elapsed().as_secs_f64());
    }
    res
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
