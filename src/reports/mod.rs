//! Community reports (capability 4, the "Zalo group" model): residents, team members and
//! volunteers tell the ward police what they see; officers triage, merge, assign, resolve
//! and answer; the reporter follows progress by a tracking code. Reporter identity is for
//! officers only, and every view of it is audited.

pub mod api;
pub mod captcha;
pub mod intake;
pub mod pages;
pub mod photos;
pub mod service;
pub mod tracking;

use std::fmt;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::app::AppState;

use crate::domain::Invalid;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

/// What a report is about; the first letters of the VNeID form's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Crime,
    Suspicious,
    Fire,
    Traffic,
    PublicOrder,
    SocialEvils,
    DomesticViolence,
    Other,
}

impl Category {
    pub const ALL: &'static [Category] = &[
        Category::Fire,
        Category::Crime,
        Category::Suspicious,
        Category::Traffic,
        Category::PublicOrder,
        Category::SocialEvils,
        Category::DomesticViolence,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Crime => "crime",
            Category::Suspicious => "suspicious",
            Category::Fire => "fire",
            Category::Traffic => "traffic",
            Category::PublicOrder => "public_order",
            Category::SocialEvils => "social_evils",
            Category::DomesticViolence => "domestic_violence",
            Category::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Crime => "Tội phạm (trộm, cướp, lừa đảo, gây rối…)",
            Category::Suspicious => "Người, hoạt động khả nghi",
            Category::Fire => "Cháy, nổ",
            Category::Traffic => "Giao thông",
            Category::PublicOrder => "Trật tự công cộng",
            Category::SocialEvils => "Tệ nạn xã hội (ma tuý, cờ bạc…)",
            Category::DomesticViolence => "Bạo lực gia đình",
            Category::Other => "Việc khác",
        }
    }

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let folded = crate::text::fold(input).replace(' ', "_");
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == folded)
            .ok_or(Invalid(
                "Loại phản ánh không hợp lệ: crime, suspicious, fire, traffic, public_order, social_evils, domestic_violence hoặc other.",
            ))
    }

    /// 1 urgent (life and property at stake now), 2 soon, 3 routine.
    pub fn priority(self) -> i64 {
        match self {
            Category::Fire | Category::Crime | Category::DomesticViolence => 1,
            Category::Suspicious
            | Category::Traffic
            | Category::PublicOrder
            | Category::SocialEvils => 2,
            Category::Other => 3,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Acknowledged,
    Assigned,
    InProgress,
    Resolved,
    Rejected,
    Merged,
}

impl Status {
    pub const ALL: &'static [Status] = &[
        Status::New,
        Status::Acknowledged,
        Status::Assigned,
        Status::InProgress,
        Status::Resolved,
        Status::Rejected,
        Status::Merged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Rejected => "rejected",
            Status::Merged => "merged",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::New => "Mới",
            Status::Acknowledged => "Đã tiếp nhận",
            Status::Assigned => "Đã giao xử lý",
            Status::InProgress => "Đang xử lý",
            Status::Resolved => "Đã giải quyết",
            Status::Rejected => "Không xử lý",
            Status::Merged => "Đã gộp vào phản ánh khác",
        }
    }

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let folded = crate::text::fold(input).replace(' ', "_");
        Status::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == folded)
            .ok_or(Invalid("Trạng thái không hợp lệ."))
    }

    /// Open reports are still the police's to handle.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::New | Status::Acknowledged | Status::Assigned | Status::InProgress
        )
    }

    /// Where a report may go from here; a closed report can be reopened.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        match (self, next) {
            (a, b) if a == b => false,
            (Merged, _) | (_, Merged) | (_, New) => false,
            (New | Acknowledged | Assigned | InProgress, _) => true,
            (Resolved | Rejected, Acknowledged | InProgress) => true,
            _ => false,
        }
    }
}

pub const TEXTS: crate::i18n::Texts = &[
    (
        "Tội phạm (trộm, cướp, lừa đảo, gây rối…)",
        "Crime (theft, robbery, fraud, assault…)",
    ),
    ("Người, hoạt động khả nghi", "Suspicious person or activity"),
    ("Cháy, nổ", "Fire and explosion"),
    ("Giao thông", "Traffic"),
    ("Trật tự công cộng", "Public order"),
    (
        "Tệ nạn xã hội (ma tuý, cờ bạc…)",
        "Social evils (drugs, gambling…)",
    ),
    ("Bạo lực gia đình", "Domestic violence"),
    ("Việc khác", "Something else"),
    (
        "Loại phản ánh không hợp lệ: crime, suspicious, fire, traffic, public_order, social_evils, domestic_violence hoặc other.",
        "Unknown report category: crime, suspicious, fire, traffic, public_order, social_evils, domestic_violence or other.",
    ),
    ("Mới", "New"),
    ("Đã tiếp nhận", "Acknowledged"),
    ("Đã giao xử lý", "Assigned"),
    ("Đang xử lý", "In progress"),
    ("Đã giải quyết", "Resolved"),
    ("Không xử lý", "Rejected"),
    ("Đã gộp vào phản ánh khác", "Merged into another report"),
    ("Trạng thái không hợp lệ.", "Invalid status."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_statuses() {
        assert_eq!(
            Category::parse("Public Order").unwrap(),
            Category::PublicOrder
        );
        assert_eq!(Category::parse("FIRE").unwrap().priority(), 1);
        assert!(Category::parse("alien").is_err());
        assert!(Status::New.can_become(Status::Acknowledged));
        assert!(Status::Resolved.can_become(Status::InProgress));
        assert!(!Status::Resolved.can_become(Status::Assigned));
        assert!(!Status::Merged.can_become(Status::InProgress));
        assert!(!Status::New.can_become(Status::Merged));
    }
}
