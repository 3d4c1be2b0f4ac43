//! Duty (capability 3): patrol routes, checkpoints and traffic posts; recurring duties
//! (RFC 5545 rules or lunar days) with exceptions; fair monthly rosters; calendars, a
//! printable roster and the monthly summary; check-in from the field.

pub mod api;
pub mod ical;
pub mod lunar;
pub mod pages;
pub mod print;
pub mod recurrence;
pub mod remind;
pub mod roster;
pub mod service;

use std::fmt;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::domain::Invalid;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

crate::domain::labelled_enum!(
    /// What a duty is.
    DutyKind, "Loại ca trực không hợp lệ: patrol, checkpoint, traffic_post, market_session, fire_watch hoặc event_security." {
        Patrol => "patrol", "Tuần tra";
        Checkpoint => "checkpoint", "Chốt điểm";
        TrafficPost => "traffic_post", "Phân luồng giao thông";
        MarketSession => "market_session", "Trực phiên chợ";
        FireWatch => "fire_watch", "Trực phòng cháy";
        EventSecurity => "event_security", "Bảo vệ sự kiện";
    }
);

crate::domain::labelled_enum!(
    /// A duty place.
    PlaceKind, "Loại điểm trực không hợp lệ: route, checkpoint hoặc traffic_post." {
        Route => "route", "Tuyến tuần tra";
        Checkpoint => "checkpoint", "Chốt cố định";
        TrafficPost => "traffic_post", "Điểm phân luồng";
    }
);

/// Which force serves a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForceChoice {
    Team(i64),
    Partner(i64),
    Police,
}

impl ForceChoice {
    /// "team:ID", "partner:ID" or "police", checked against the ward's teams and forces.
    pub fn parse(input: &str, teams: &[i64], forces: &[i64]) -> Result<Self, Invalid> {
        let s = input.trim();
        let id = |p: &str| s.strip_prefix(p).and_then(|x| x.parse::<i64>().ok());
        if s == "police" {
            return Ok(ForceChoice::Police);
        }
        if let Some(id) = id("team:") {
            return teams
                .contains(&id)
                .then_some(ForceChoice::Team(id))
                .ok_or(Invalid("Không có tổ bảo vệ này trong phường."));
        }
        if let Some(id) = id("partner:") {
            return forces
                .contains(&id)
                .then_some(ForceChoice::Partner(id))
                .ok_or(Invalid("Không có lực lượng phối hợp này trong phường."));
        }
        Err(Invalid(
            "Chọn lực lượng đảm nhiệm: một tổ bảo vệ, một lực lượng phối hợp hoặc Công an phường.",
        ))
    }

    /// (force_kind, team_id, force_id) as stored.
    pub fn columns(self) -> (&'static str, Option<i64>, Option<i64>) {
        match self {
            ForceChoice::Team(id) => ("team", Some(id), None),
            ForceChoice::Partner(id) => ("partner", None, Some(id)),
            ForceChoice::Police => ("police", None, None),
        }
    }
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Tuần tra", "Patrol"),
    ("Chốt điểm", "Checkpoint"),
    ("Phân luồng giao thông", "Traffic post"),
    ("Trực phiên chợ", "Market session"),
    ("Trực phòng cháy", "Fire watch"),
    ("Bảo vệ sự kiện", "Event security"),
    ("Tuyến tuần tra", "Patrol route"),
    ("Chốt cố định", "Fixed checkpoint"),
    ("Điểm phân luồng", "Traffic post"),
    (
        "Loại ca trực không hợp lệ: patrol, checkpoint, traffic_post, market_session, fire_watch hoặc event_security.",
        "Unknown duty kind: patrol, checkpoint, traffic_post, market_session, fire_watch or event_security.",
    ),
    (
        "Loại điểm trực không hợp lệ: route, checkpoint hoặc traffic_post.",
        "Unknown duty place kind: route, checkpoint or traffic_post.",
    ),
    (
        "Không có lực lượng phối hợp này trong phường.",
        "The ward has no such partner force.",
    ),
    (
        "Chọn lực lượng đảm nhiệm: một tổ bảo vệ, một lực lượng phối hợp hoặc Công an phường.",
        "Choose who serves: a security team, a partner force or the ward police.",
    ),
    // Recurrence.
    (
        "Ngày ngoại lệ phải viết dd/mm/yyyy hoặc khoảng dd/mm/yyyy-dd/mm/yyyy.",
        "Exception days are written dd/mm/yyyy or as a range dd/mm/yyyy-dd/mm/yyyy.",
    ),
    (
        "Khoảng ngày ngoại lệ phải có ngày đầu trước ngày cuối.",
        "An exception range must start before it ends.",
    ),
    ("Cần ngày bắt đầu.", "A first day is needed."),
    (
        "Ngày kết thúc phải sau ngày bắt đầu.",
        "The last day must be after the first.",
    ),
    (
        "Ngày âm lịch là các số từ 1 đến 30, cách nhau bằng dấu phẩy.",
        "Lunar days are numbers from 1 to 30, separated by commas.",
    ),
    (
        "Tháng âm lịch là các số từ 1 đến 12, cách nhau bằng dấu phẩy.",
        "Lunar months are numbers from 1 to 12, separated by commas.",
    ),
    (
        "Chọn một trong hai: quy tắc lặp dương lịch hoặc ngày âm lịch.",
        "Choose one: a solar recurrence rule or lunar days.",
    ),
    (
        "Đã chọn tháng âm lịch thì cần cả ngày âm lịch.",
        "Lunar months need lunar days too.",
    ),
    (
        "Ngày bổ sung phải viết dd/mm/yyyy.",
        "Extra days are written dd/mm/yyyy.",
    ),
    (
        "Quy tắc lặp không hợp lệ theo RFC 5545, ví dụ FREQ=WEEKLY;BYDAY=SU hoặc FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR.",
        "The recurrence rule is not valid RFC 5545, e.g. FREQ=WEEKLY;BYDAY=SU or FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR.",
    ),
    (
        "Lịch lặp này không rơi vào ngày nào trong hai năm tới: hãy kiểm tra quy tắc, ngày âm lịch và ngày ngoại lệ.",
        "This schedule falls on no day in the next two years: check the rule, the lunar days and the exceptions.",
    ),
    // Roster rules.
    (
        "không thuộc lực lượng được giao ca trực này",
        "is not in the force this duty belongs to",
    ),
    ("đã có tên trong ca trực này", "is already on this duty"),
    (
        "không trực vào thứ này trong tuần",
        "does not serve on this day of the week",
    ),
    ("không nhận trực đêm", "does not take night duty"),
    ("đang nghỉ phép", "is on leave"),
    (
        "trùng giờ với một ca trực khác",
        "overlaps another of their duties",
    ),
    (
        "chưa đủ thời gian nghỉ sau ca trực đêm",
        "has not rested long enough after a night duty",
    ),
    (
        "đã đủ số ca trực đêm tối đa trong tháng",
        "already has the month's maximum of night duties",
    ),
    ("người", "people"),
    // Service.
    (
        "Tháng phải viết mm/yyyy, ví dụ 12/2026.",
        "Months are written mm/yyyy, e.g. 12/2026.",
    ),
    ("Cần tên ca trực.", "A duty name is needed."),
    (
        "Tên ca trực dài quá 200 ký tự.",
        "The duty name is longer than 200 characters.",
    ),
    (
        "Không có điểm trực này trong phường.",
        "The ward has no such duty place.",
    ),
    (
        "Số người cần là một số từ 1 đến 50.",
        "People needed is a number from 1 to 50.",
    ),
    (
        "Giờ bắt đầu phải viết HH:MM, ví dụ 05:30.",
        "The start time is written HH:MM, e.g. 05:30.",
    ),
    (
        "Giờ kết thúc phải viết HH:MM, ví dụ 11:00.",
        "The end time is written HH:MM, e.g. 11:00.",
    ),
    (
        "Giờ kết thúc phải khác giờ bắt đầu.",
        "The end time must differ from the start.",
    ),
    (
        "Một ca trực không dài quá 16 giờ; hãy chia thành nhiều ca.",
        "A duty lasts at most 16 hours; split it into several.",
    ),
    (
        "Ghi chú dài quá 2000 ký tự.",
        "The notes are longer than 2000 characters.",
    ),
    ("Mã QR không hợp lệ.", "The QR code is not valid."),
    (
        "Mã QR này đã bị thay bằng mã mới; hãy quét mã đang dán tại điểm.",
        "This QR code has been replaced; scan the code posted at the stop.",
    ),
    (
        "Mã QR này đã hết hạn; báo tổ trưởng in mã mới.",
        "This QR code has expired; ask the team leader to print a new one.",
    ),
];

impl fmt::Display for ForceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForceChoice::Team(id) => write!(f, "team:{id}"),
            ForceChoice::Partner(id) => write!(f, "partner:{id}"),
            ForceChoice::Police => f.write_str("police"),
        }
    }
}
