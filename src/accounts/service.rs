//! Logging in and out, changing passwords, creating accounts: the rules shared by the
//! pages, the API and the command line.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::password;
use crate::domain::{Code, Role};
use crate::http::ctx::{hash_token, random_token};
use crate::http::error::{AppError, FieldError};
use crate::store::accounts::{NewUser, SessionUser, User};
use crate::store::{Actor, Store};

/// After this many failed logins in a row the account is locked for `LOCK_MINUTES`.
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// From the third failure on, each answer is slowed by this much more.
const SLOWDOWN_STEP: Duration = Duration::from_millis(400);

pub struct LoggedIn {
    pub token: String,
    pub session: SessionUser,
}

/// Check a password and open a session; repeated failures slow down, then lock.
pub async fn login(
    store: &dyn Store,
    username: &str,
    pass: &str,
    session_hours: i64,
) -> Result<LoggedIn, AppError> {
    let bad = || {
        AppError::Validation(vec![FieldError {
            field: "password".into(),
            message: "Tên đăng nhập hoặc mật khẩu không đúng.",
        }])
    };
    let username = username.trim().to_lowercase();
    if username.is_empty() || username.len() > 64 || pass.len() > 256 {
        return Err(bad());
    }
    let Some(user) = store.user_by_username(&username).await? else {
        // Same work as a real check, so timing does not tell which usernames exist.
        password::verify_dummy(pass).await;
        return Err(bad());
    };
    let now = Utc::now();
    if let Some(until) = user.locked_until.filter(|u| *u > now) {
        return Err(locked(until, now));
    }
    if user.disabled_at.is_some() || !password::verify(pass, &user.password_hash).await {
        // A lock that has run out starts the count afresh.
        let mut prior = user.failed_logins;
        if user.locked_until.is_some() {
            store.record_login_success(user.id).await?;
            prior = 0;
        }
        let failures = prior + 1;
        let lock =
            (failures >= MAX_FAILURES).then(|| now + chrono::Duration::minutes(LOCK_MINUTES));
        store.record_login_failure(user.id, lock).await?;
        if failures >= 3 {
            tokio::time::sleep(SLOWDOWN_STEP * (failures.min(8) as u32 - 2)).await;
        }
        return Err(match lock {
            Some(until) => locked(until, now),
            None => bad(),
        });
    }
    store.record_login_success(user.id).await?;
    let token = random_token();
    let expires = now + chrono::Duration::hours(session_hours);
    let csrf = random_token();
    let session_id = store
        .create_session(user.id, &hash_token(&token), &csrf, expires)
        .await?;
    let session = SessionUser {
        session_id,
        csrf_token: csrf,
        expires_at: expires,
        user,
    };
    Ok(LoggedIn { token, session })
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::TooManyRequests {
        retry_after: (until - now).num_seconds().max(1) as u64,
        message: "Tài khoản tạm khoá vì đăng nhập sai nhiều lần; vui lòng thử lại sau 15 phút.",
    }
}

/// Change one's own password; every other session of the account ends.
pub async fn change_password(
    store: &dyn Store,
    session: &SessionUser,
    current: &str,
    new: &str,
    repeat: &str,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if !password::verify(current, &session.user.password_hash).await {
        errors.push(FieldError {
            field: "current".into(),
            message: "Mật khẩu hiện tại không đúng.",
        });
    }
    if let Err(m) = check_new_password(new) {
        errors.push(FieldError {
            field: "new".into(),
            message: m,
        });
    } else if new != repeat {
        errors.push(FieldError {
            field: "repeat".into(),
            message: "Hai lần nhập mật khẩu mới không khớp.",
        });
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password::hash(new).await?;
    let actor = Actor {
        user_id: Some(session.user.id),
    };
    store
        .set_password(actor, session.user.id, &hash, Some(session.session_id))
        .await?;
    Ok(())
}

pub fn check_new_password(new: &str) -> Result<(), &'static str> {
    let n = new.chars().count();
    if n < password::MIN_LEN {
        return Err("Mật khẩu mới phải có ít nhất 8 ký tự.");
    }
    if n > 128 {
        return Err("Mật khẩu mới dài quá 128 ký tự.");
    }
    Ok(())
}

/// A username: 3–64 of a–z, 0–9, dot, dash, underscore.
pub fn check_username(input: &str) -> Result<String, &'static str> {
    let u = input.trim().to_lowercase();
    let ok = (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if ok {
        Ok(u)
    } else {
        Err(
            "Tên đăng nhập gồm 3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới.",
        )
    }
}

/// Create an account scoped as its role requires (the `user add` command).
pub async fn add_user(
    store: &dyn Store,
    actor: Actor,
    username: &str,
    role: Role,
    ward: Option<&str>,
    group: Option<&str>,
    pass: &str,
) -> anyhow::Result<User> {
    let username = check_username(username).map_err(anyhow::Error::msg)?;
    check_new_password(pass).map_err(anyhow::Error::msg)?;
    let ward_id = match ward {
        Some(code) => {
            let code = Code::parse(code).map_err(|e| anyhow::anyhow!("--ward: {e}"))?;
            let unit = store
                .unit_by_code(code.as_str())
                .await?
                .filter(|u| u.kind().is_ward())
                .ok_or_else(|| anyhow::anyhow!("no ward with code {code}"))?;
            Some(unit.id)
        }
        None => None,
    };
    if role != Role::Admin && ward_id.is_none() {
        anyhow::bail!("role {role} needs --ward WARD_CODE");
    }
    let group_id = match group {
        Some(code) => {
            let unit = store
                .unit_by_code(&code.trim().to_lowercase())
                .await?
                .filter(|u| u.kind().is_grassroots() && u.ward_id == ward_id)
                .ok_or_else(|| anyhow::anyhow!("no residential group {code} in that ward"))?;
            Some(unit.id)
        }
        None => None,
    };
    if matches!(role, Role::TeamLeader | Role::TeamMember) && group_id.is_none() {
        anyhow::bail!("role {role} needs --group GROUP_CODE (the residential group of the team)");
    }
    let hash = password::hash(pass).await?;
    let user = NewUser {
        username,
        display_name: String::new(),
        password_hash: hash,
        role,
        ward_id: if role == Role::Admin { None } else { ward_id },
        group_id,
        person_id: None,
    };
    store.create_user(actor, user).await.map_err(|e| match e {
        crate::store::StoreError::Conflict(_) => anyhow::anyhow!("username already taken"),
        other => other.into(),
    })
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong username or password.",
    ),
    (
        "Tài khoản tạm khoá vì đăng nhập sai nhiều lần; vui lòng thử lại sau 15 phút.",
        "The account is locked after repeated failed logins; try again in 15 minutes.",
    ),
    (
        "Mật khẩu hiện tại không đúng.",
        "The current password is wrong.",
    ),
    (
        "Hai lần nhập mật khẩu mới không khớp.",
        "The two new passwords differ.",
    ),
    (
        "Mật khẩu mới phải có ít nhất 8 ký tự.",
        "The new password needs at least 8 characters.",
    ),
    (
        "Mật khẩu mới dài quá 128 ký tự.",
        "The new password is longer than 128 characters.",
    ),
    (
        "Tên đăng nhập gồm 3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới.",
        "A username has 3–64 characters: lowercase letters, digits, dot, dash, underscore.",
    ),
];
