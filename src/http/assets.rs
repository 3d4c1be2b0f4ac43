//! Static files, embedded in the binary and served from versioned, long-cached URLs.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Our own assets change with the release, so their URLs carry its version.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const LEAFLET: &str = "leaflet-1.9.4";

macro_rules! embedded {
    ($($name:literal => $path:literal, $mime:literal;)+) => {
        fn lookup(name: &str) -> Option<(&'static [u8], &'static str)> {
            match name {
                $($name => Some((include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)), $mime)),)+
                _ => None,
            }
        }
    };
}

embedded! {
    "app.css" => "static/app.css", "text/css; charset=utf-8";
    "map.js" => "static/map.js", "text/javascript; charset=utf-8";
    "report.js" => "static/report.js", "text/javascript; charset=utf-8";
    "inbox.js" => "static/inbox.js", "text/javascript; charset=utf-8";
    "live.js" => "static/live.js", "text/javascript; charset=utf-8";
    "push.js" => "static/push.js", "text/javascript; charset=utf-8";
    "duty.js" => "static/duty.js", "text/javascript; charset=utf-8";
    "leaflet-1.9.4/leaflet.js" => "vendor/leaflet-1.9.4/leaflet.js", "text/javascript; charset=utf-8";
    "leaflet-1.9.4/leaflet.css" => "vendor/leaflet-1.9.4/leaflet.css", "text/css; charset=utf-8";
    "leaflet-1.9.4/LICENSE" => "vendor/leaflet-1.9.4/LICENSE", "text/plain; charset=utf-8";
    "leaflet-1.9.4/images/layers.png" => "vendor/leaflet-1.9.4/images/layers.png", "image/png";
    "leaflet-1.9.4/images/layers-2x.png" => "vendor/leaflet-1.9.4/images/layers-2x.png", "image/png";
    "leaflet-1.9.4/images/marker-icon.png" => "vendor/leaflet-1.9.4/images/marker-icon.png", "image/png";
    "leaflet-1.9.4/images/marker-icon-2x.png" => "vendor/leaflet-1.9.4/images/marker-icon-2x.png", "image/png";
    "leaflet-1.9.4/images/marker-shadow.png" => "vendor/leaflet-1.9.4/images/marker-shadow.png", "image/png";
}

fn serve(name: &str) -> Response {
    match lookup(name) {
        Some((bytes, mime)) => (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/static/{version}/{file}` for our own files.
pub async fn own(Path((version, file)): Path<(String, String)>) -> Response {
    if version != ASSET_VERSION || file.contains('/') {
        return StatusCode::NOT_FOUND.into_response();
    }
    serve(&file)
}

/// `/static/vendor/{path}` for third-party libraries, versioned by their folder name.
pub async fn vendor(Path(path): Path<String>) -> Response {
    serve(&path)
}
