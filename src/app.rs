//! Building and running the service: state, routes, middleware. Tests build the same
//! `Application` on port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Router, middleware};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::channels::Channels;
use crate::config::Config;
use crate::http::limit::RateLimit;
use crate::http::{assets, error::AppError, error::render_errors, health, openapi, pages};
use crate::live::Live;
use crate::reports::captcha::Captcha;
use crate::reports::intake::Intake;
use crate::store::Store;

/// Bodies larger than this are refused before any handler runs (imports are the largest).
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// What every handler reaches: one shared allocation, so that handing it to a request
/// (axum clones the state for each extractor and middleware that takes it) is one
/// reference count, not one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub metrics: Arc<health::Metrics>,
    /// Durable report intake with group commit.
    pub intake: Intake,
    /// Live updates to open pages, across nodes.
    pub live: Arc<Live>,
    pub captcha: Arc<Captcha>,
    /// Anonymous reports per client address.
    pub report_limit: Arc<RateLimit>,
    /// Outside channels (web push, Zalo, SMS, e-mail) configured from the environment.
    pub channels: Arc<Channels>,
    /// Wakes the delivery loop when a warning is published.
    pub deliveries: Arc<tokio::sync::Notify>,
}

pub fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/{version}/{file}", get(assets::own))
        .route("/static/vendor/{*path}", get(assets::vendor))
        .merge(pages::router())
        .merge(openapi::router())
        .merge(crate::accounts::api::router())
        .merge(crate::accounts::pages::router())
        .merge(crate::territory::router())
        .merge(crate::forces::router())
        .merge(crate::duty::router())
        .merge(crate::sheets::web::router())
        .merge(crate::reports::router())
        .merge(crate::warnings::router())
        .merge(crate::open311::router())
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn(render_errors))
        .layer(middleware::from_fn_with_state(state.clone(), health::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    SECURITY_HEADERS
        .iter()
        .fold(router, |router, (name, value)| {
            router.layer(SetResponseHeaderLayer::if_not_present(
                name.clone(),
                HeaderValue::from_static(value),
            ))
        })
}

/// Headers on every answer unless a handler set its own (the lean live path writes them
/// too).
pub const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    ),
];

pub struct Application {
    listener: TcpListener,
    state: AppState,
    store: Arc<dyn Store>,
}

impl Application {
    /// Open (and migrate) the database the config names, and bind the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        Self::with_store(config, store).await
    }

    pub async fn with_store(config: Config, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        // Links sent outside name the port actually bound (port 0 in tests).
        let mut config = config;
        config.listen = listener.local_addr()?;
        let key = store
            .setting_or_init("captcha_key", &crate::http::ctx::random_token())
            .await?;
        let channels = match config.channels.clone() {
            Some(c) => c,
            None => Arc::new(Channels::from_env()?),
        };
        crate::duty::remind::start(store.clone(), channels.clone());
        let deliveries =
            crate::warnings::delivery::start(store.clone(), channels.clone(), config.base_url());
        let live = Live::start(store.clone()).await?;
        let tracking = crate::reports::tracking::Tracking::load(store.clone()).await?;
        let state = AppState(Arc::new(Services {
            channels,
            deliveries,
            intake: Intake::start(store.clone(), live.clone(), tracking),
            live,
            captcha: Arc::new(Captcha::new(key.as_bytes())),
            report_limit: Arc::new(RateLimit::new(
                config.anonymous_reports_per_hour,
                std::time::Duration::from_secs(3600),
            )),
            store: store.clone(),
            config: Arc::new(config),
            metrics: Arc::new(health::Metrics::default()),
        }));
        Ok(Self {
            listener,
            state,
            store,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // Live warning streams are served on a lean path; the rest through the router.
        let incoming = crate::http::lean::incoming(self.listener, self.state.clone(), stopped)?;
        axum::serve(
            incoming.tap_io(|_| {}),
            router(self.state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        })
        .await?;
        self.store.close().await;
        Ok(())
    }
}

/// Connect to the configured database (creating the data directory for SQLite) and
/// bring its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            )
        })?;
    }
    let store = crate::store::connect(&config.database_url()).await?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(store)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
