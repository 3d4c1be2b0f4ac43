//! Forces (capability 2): one security team per residential group with its leader,
//! deputy and members, the partner forces with their volunteers, and the ward police.

pub mod api;
pub mod pages;
pub mod service;

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Tên tổ", "Team name"),
    (
        "Ví dụ: Tổ bảo vệ ANTT TDP số 1.",
        "E.g. Security team of residential group 1.",
    ),
    (
        "Tổ dân phố phụ trách (mã)",
        "Residential groups covered (codes)",
    ),
    (
        "Mã các tổ dân phố, cách nhau bởi dấu phẩy; xem trang Các tổ dân phố.",
        "Codes of the residential groups, separated by commas; see the residential groups page.",
    ),
    ("Số quyết định thành lập", "Founding decision number"),
    ("Ngày quyết định", "Decision date"),
    ("Ngày ra mắt", "Launch date"),
    ("Thành lập tổ bảo vệ ANTT", "Establish a security team"),
    ("Sửa tổ bảo vệ ANTT", "Edit security team"),
    ("Thêm người vào lực lượng", "Add a person to the forces"),
    ("Sửa hồ sơ", "Edit profile"),
    ("Họ và tên", "Full name"),
    ("Chức danh", "Team role"),
    ("Số điện thoại", "Phone number"),
    ("Ngày sinh", "Date of birth"),
    ("Số CCCD", "Citizen ID number"),
    (
        "12 chữ số; chỉ cán bộ Công an phường xem được.",
        "12 digits; only ward police officers can see it.",
    ),
    ("Tổ dân phố nơi cư trú", "Residential group of residence"),
    ("Cấp bậc, chức vụ", "Rank, position"),
    ("Tập huấn", "Training"),
    ("Trang bị được cấp", "Equipment issued"),
    ("Ngày tham gia", "Joined on"),
    ("Thêm lực lượng phối hợp", "Add a partner force"),
    ("Sửa lực lượng phối hợp", "Edit partner force"),
    ("Loại lực lượng", "Kind of force"),
    ("Thêm tổ viên", "Add a member"),
    ("Thêm tình nguyện viên", "Add a volunteer"),
    ("Thêm cán bộ", "Add an officer"),
    ("Thêm tổ bảo vệ", "Add a team"),
    ("Phụ trách", "Covers"),
    ("Số dân phụ trách", "Residents covered"),
    (
        "Thành viên cần có theo quy định",
        "Members required by the rule",
    ),
    ("Danh sách thành viên", "Members"),
    (
        "Thông tin cá nhân chỉ hiện với người có thẩm quyền; mỗi lần xem số CCCD đều được ghi lại.",
        "Personal data shows only to those entitled; every view of a citizen ID is logged.",
    ),
    (
        "Tổ trưởng chỉ cập nhật hồ sơ; đổi tổ, chức danh hoặc số CCCD do cán bộ Công an phường thực hiện.",
        "A team leader only updates profiles; changing team, role or citizen ID is for ward police officers.",
    ),
];
