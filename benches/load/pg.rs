//! A fresh PostgreSQL database for one measurement, dropped afterwards.

use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub struct TempDb {
    admin_url: String,
    name: String,
    pub url: String,
}

async fn admin(url: &str) -> Result<PgConnection> {
    tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url))
        .await
        .context("PostgreSQL did not answer within 5 s")?
        .context("cannot connect to PostgreSQL")
}

/// Whether a server answers at `url`.
pub async fn reachable(url: &str) -> Result<()> {
    admin(url).await?.close().await?;
    Ok(())
}

impl TempDb {
    pub async fn create(admin_url: &str) -> Result<Self> {
        let name = format!("wwbench_{:016x}", rand::random::<u64>());
        let mut conn = admin(admin_url).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        conn.close().await?;
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&format!("/{name}"));
        Ok(Self {
            admin_url: admin_url.to_string(),
            name,
            url: url.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drop the database, ending any session still in it.
    pub async fn drop_now(self) -> Result<()> {
        let mut conn = admin(&self.admin_url).await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }
}

/// Connections open now to one database and to the whole PostgreSQL server.
pub async fn connections(admin_url: &str, database: &str) -> Option<(i64, i64)> {
    let mut conn = admin(admin_url).await.ok()?;
    let n = sqlx::query_as::<_, (i64, i64)>(
        "SELECT count(*) FILTER (WHERE datname = $1), count(*) FROM pg_stat_activity",
    )
    .bind(database)
    .fetch_one(&mut conn)
    .await
    .ok();
    let _ = conn.close().await;
    n
}

/// Connections the server can still take from ordinary users, and its `max_connections`.
pub async fn free_connections(admin_url: &str) -> Result<(usize, usize)> {
    let mut conn = admin(admin_url).await?;
    let (max, reserved, used) = sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT current_setting('max_connections')::bigint, \
                current_setting('superuser_reserved_connections')::bigint, \
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    let free = (max - reserved - used).max(0) as usize;
    Ok((free, max as usize))
}
