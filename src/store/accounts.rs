//! Accounts and sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Actor, StoreResult};
use crate::domain::Role;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub ward_id: Option<i64>,
    pub group_id: Option<i64>,
    pub person_id: Option<i64>,
    #[serde(skip)]
    pub failed_logins: i64,
    #[serde(skip)]
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub password_changed_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn role(&self) -> Role {
        // The column only ever holds values written from `Role::as_str`.
        Role::parse(&self.role).unwrap_or(Role::Resident)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub ward_id: Option<i64>,
    pub group_id: Option<i64>,
    pub person_id: Option<i64>,
}

/// A live session with its user.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_user(&self, actor: Actor, user: NewUser) -> StoreResult<User>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>>;
    async fn list_users(&self, ward_id: Option<i64>) -> StoreResult<Vec<User>>;
    /// Count a failed login; lock the account until `lock_until` when given.
    async fn record_login_failure(
        &self,
        user_id: i64,
        lock_until: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    async fn record_login_success(&self, user_id: i64) -> StoreResult<()>;
    /// Change the password and end every other session of the user.
    async fn set_password(
        &self,
        actor: Actor,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<i64>,
    ) -> StoreResult<()>;
    async fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    async fn session_by_token(&self, token_hash: &str) -> StoreResult<Option<SessionUser>>;
    async fn delete_session(&self, session_id: i64) -> StoreResult<()>;
}

macro_rules! impl_account_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::accounts::AccountStore for $store {
            async fn create_user(
                &self,
                actor: $crate::store::Actor,
                user: $crate::store::accounts::NewUser,
            ) -> $crate::store::StoreResult<$crate::store::accounts::User> {
                use $crate::store::StoreError;
                let now = chrono::Utc::now();
                let mut tx = self.begin_tx().await.map_err(StoreError::from_sqlx)?;
                let created: $crate::store::accounts::User = sqlx::query_as(
                    "INSERT INTO users (username, display_name, password_hash, role, ward_id, \
                     group_id, person_id, created_at, password_changed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING *",
                )
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(user.role.as_str())
                .bind(user.ward_id)
                .bind(user.group_id)
                .bind(user.person_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                Self::audit_tx(
                    &mut tx,
                    actor,
                    user.ward_id,
                    "user",
                    Some(created.id),
                    "create",
                    format!("{} ({})", user.username, user.role.as_str()),
                )
                .await?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                Ok(created)
            }

            async fn user_by_username(
                &self,
                username: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::accounts::User>> {
                sqlx::query_as("SELECT * FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn user_by_id(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::accounts::User>> {
                sqlx::query_as("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn list_users(
                &self,
                ward_id: Option<i64>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::accounts::User>> {
                sqlx::query_as(
                    "SELECT * FROM users WHERE ($1 IS NULL OR ward_id = $1) ORDER BY username",
                )
                .bind(ward_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn record_login_failure(
                &self,
                user_id: i64,
                lock_until: Option<chrono::DateTime<chrono::Utc>>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE users SET failed_logins = failed_logins + 1, \
                     locked_until = COALESCE($2, locked_until) WHERE id = $1",
                )
                .bind(user_id)
                .bind(lock_until)
                .execute(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)?;
                self.caches.forget_user(user_id);
                self.tell_peers_to_forget().await;
                Ok(())
            }

            async fn record_login_success(&self, user_id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                self.caches.forget_user(user_id);
                self.tell_peers_to_forget().await;
                Ok(())
            }

            async fn set_password(
                &self,
                actor: $crate::store::Actor,
                user_id: i64,
                password_hash: &str,
                keep_session: Option<i64>,
            ) -> $crate::store::StoreResult<()> {
                use $crate::store::StoreError;
                let mut tx = self.begin_tx().await.map_err(StoreError::from_sqlx)?;
                let ward: Option<Option<i64>> = sqlx::query_scalar(
                    "UPDATE users SET password_hash = $2, password_changed_at = $3, \
                     failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING ward_id",
                )
                .bind(user_id)
                .bind(password_hash)
                .bind(chrono::Utc::now())
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
                let Some(ward) = ward else {
                    return Err(StoreError::NotFound);
                };
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
                    .bind(user_id)
                    .bind(keep_session)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                Self::audit_tx(&mut tx, actor, ward, "user", Some(user_id), "password", String::new())
                    .await?;
                tx.commit().await.map_err(StoreError::from_sqlx)?;
                self.caches.forget_user(user_id);
                self.tell_peers_to_forget().await;
                Ok(())
            }

            async fn create_session(
                &self,
                user_id: i64,
                token_hash: &str,
                csrf_token: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<i64> {
                // Expired sessions are useless; sweep them whenever a new one starts.
                sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                    .bind(chrono::Utc::now())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                sqlx::query_scalar(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(token_hash)
                .bind(user_id)
                .bind(csrf_token)
                .bind(chrono::Utc::now())
                .bind(expires_at)
                .fetch_one(&self.pool)
                .await
                .map_err($crate::store::StoreError::from_sqlx)
            }

            async fn session_by_token(
                &self,
                token_hash: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::accounts::SessionUser>> {
                // One read for the session and its user, and none while it is cached: it
                // is on the path of every call.
                #[derive(sqlx::FromRow)]
                struct Row {
                    session_id: i64,
                    csrf_token: String,
                    expires_at: chrono::DateTime<chrono::Utc>,
                    #[sqlx(flatten)]
                    user: $crate::store::accounts::User,
                }
                let now = chrono::Utc::now();
                self.caches
                    .sessions
                    .get_or_read(token_hash, |s| s.expires_at > now, || async {
                        let row: Option<Row> = sqlx::query_as(
                            "SELECT s.id AS session_id, s.csrf_token, s.expires_at, u.* FROM sessions s \
                             JOIN users u ON u.id = s.user_id \
                             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
                        )
                        .bind(token_hash)
                        .bind(now)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err($crate::store::StoreError::from_sqlx)?;
                        Ok(row.map(|row| $crate::store::accounts::SessionUser {
                            session_id: row.session_id,
                            csrf_token: row.csrf_token,
                            expires_at: row.expires_at,
                            user: row.user,
                        }))
                    })
                    .await
            }

            async fn delete_session(&self, session_id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::StoreError::from_sqlx)?;
                self.caches.sessions.forget_where(|s| s.session_id == session_id);
                self.tell_peers_to_forget().await;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_account_store;
