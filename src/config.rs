//! Configuration: one typed struct from flags and environment; zero configuration
//! gives an embedded SQLite database in `./data`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_TILE_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

#[derive(Clone)]
pub struct Config {
    /// Where the embedded database and uploaded files live.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: a `postgres://` URL, or `None` for SQLite in the data directory.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    /// Map tiles for Leaflet; `{z}/{x}/{y}` placeholders.
    pub tile_url: String,
    /// Send cookies with `Secure` (behind HTTPS).
    pub cookie_secure: bool,
    pub session_hours: i64,
    /// The address people reach the service at (links in CAP messages, Open311).
    pub public_url: Option<String>,
    /// Take the client address from X-Forwarded-For (behind a trusted proxy).
    pub trust_proxy: bool,
    /// Anonymous reports one address may file in an hour.
    pub anonymous_reports_per_hour: usize,
    /// Outside channels; `None` reads them from the environment (WARDWATCH_ZALO_…,
    /// WARDWATCH_SMS_…, WARDWATCH_SMTP_…, WARDWATCH_VAPID_…) when the service starts.
    pub channels: Option<std::sync::Arc<crate::channels::Channels>>,
}

impl Config {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tile_url: DEFAULT_TILE_URL.to_string(),
            cookie_secure: false,
            session_hours: 12,
            public_url: None,
            trust_proxy: false,
            anonymous_reports_per_hour: 10,
            channels: None,
        }
    }

    /// The service's own address for links sent outside (no trailing slash).
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The URL the store connects to.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite:{}", self.data_dir.join("wardwatch.db").display()),
        }
    }
}

/// Passwords inside a database URL never reach the logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url()))
            .field("listen", &self.listen)
            .field("tile_url", &self.tile_url)
            .field("cookie_secure", &self.cookie_secure)
            .field("session_hours", &self.session_hours)
            .field("public_url", &self.public_url)
            .field("trust_proxy", &self.trust_proxy)
            .field(
                "anonymous_reports_per_hour",
                &self.anonymous_reports_per_hour,
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_the_database_password() {
        let mut c = super::Config::new("data".into());
        c.database_url = Some("postgres://ward:s3cret@db.example/ww".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example"));
    }
}
