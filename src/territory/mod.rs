//! Territory (capability 1): the administrative tree, residential groups with their
//! households and residents, and the ward's sites, each on the map with its risks.

pub mod api;
pub mod overview;
pub mod pages;
pub mod service;

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Tổng quan phường", "Ward overview"),
    ("Diện tích", "Area"),
    ("Năm thành lập", "Founded"),
    ("Tổ bảo vệ ANTT", "Security teams"),
    ("Thành viên", "Members"),
    ("Địa bàn trọng điểm", "Key sites"),
    ("Bản đồ", "Map"),
    ("Nguy cơ về an ninh, trật tự", "Security and order risks"),
    ("Địa bàn", "Sites"),
    ("Lực lượng", "Forces"),
    ("Lịch sử thay đổi", "Change history"),
    ("Nhập, xuất dữ liệu", "Import and export"),
    ("Thêm địa bàn", "Add a site"),
    ("Sửa địa bàn", "Edit site"),
    ("Loại địa bàn", "Kind of site"),
    ("Tên", "Name"),
    ("Địa chỉ", "Address"),
    ("Vĩ độ", "Latitude"),
    ("Kinh độ", "Longitude"),
    (
        "Ví dụ 20.8555; để trống nếu chưa có.",
        "E.g. 20.8555; leave empty if unknown.",
    ),
    ("Ví dụ 106.6930.", "E.g. 106.6930."),
    ("Số tầng", "Floors"),
    ("Số căn hộ", "Apartments"),
    ("Số nhân khẩu", "Residents"),
    ("Người nước ngoài", "Foreign residents"),
    ("Số phòng", "Rooms"),
    ("Số người lưu trú", "Lodgers"),
    ("Lượt khách", "Visitors"),
    ("Chiều dài (m)", "Length (m)"),
    ("Lịch phiên", "Session schedule"),
    ("Ví dụ: mỗi sáng Chủ nhật.", "E.g. every Sunday morning."),
    ("Năm đưa vào sử dụng", "In use since (year)"),
    ("Ghi chú", "Notes"),
    ("Thêm đơn vị hành chính", "Add an administrative unit"),
    ("Sửa đơn vị hành chính", "Edit administrative unit"),
    ("Đơn vị cha", "Parent unit"),
    ("Loại đơn vị", "Kind of unit"),
    ("Mã", "Code"),
    (
        "Chữ không dấu, số, gạch ngang; ví dụ du-hang-kenh-tdp-23.",
        "Unaccented letters, digits, dashes; e.g. du-hang-kenh-tdp-23.",
    ),
    ("Số hộ", "Households"),
    ("Diện tích (ha)", "Area (ha)"),
    (
        "Số thành viên tối thiểu mỗi tổ bảo vệ",
        "Minimum members per security team",
    ),
    (
        "Quy định của tỉnh; để trống để dùng quy định của đơn vị cấp trên.",
        "The province's rule; leave empty to use the parent unit's.",
    ),
    (
        "Số dân ứng với số thành viên tối thiểu",
        "Residents covered by the minimum",
    ),
    (
        "Số dân tăng thêm cho mỗi thành viên",
        "Further residents per extra member",
    ),
    ("Lưu trữ", "Archive"),
    ("Khôi phục", "Restore"),
    ("Đã lưu trữ", "Archived"),
    ("Sửa", "Edit"),
    ("Thêm", "Add"),
    ("Tất cả", "All"),
    ("Hiện cả bản ghi đã lưu trữ", "Show archived records too"),
    ("Lọc", "Filter"),
    ("Không có kết quả.", "No results."),
    ("Kết quả tìm kiếm", "Search results"),
    (
        "Tìm không cần gõ dấu, ví dụ: du hang kenh, dong tam.",
        "Type without diacritics if you like, e.g. du hang kenh, dong tam.",
    ),
    ("Thời gian", "Time"),
    ("Người thực hiện", "By"),
    ("Thao tác", "Action"),
    ("Đối tượng", "Record"),
    ("Chi tiết", "Details"),
    ("Hệ thống", "System"),
    ("Thuộc", "Part of"),
    ("Tổ bảo vệ phụ trách", "Security team"),
    ("Chưa có", "None yet"),
    ("Thiếu thành viên", "Under strength"),
    ("cần", "needs"),
    ("Chưa có tổ trưởng", "No leader yet"),
    ("Các lực lượng phối hợp", "Partner forces"),
    ("tình nguyện viên", "volunteers"),
    ("Cán bộ Công an phường phụ trách", "Ward police officers"),
    ("Quyết định thành lập", "Founding decision"),
    ("ngày", "dated"),
    ("ra mắt", "launched"),
    (
        "Bản đồ cần JavaScript; danh sách địa bàn ở bên dưới.",
        "The map needs JavaScript; the list of sites is below.",
    ),
    ("Các tổ dân phố", "Residential groups"),
    ("Thêm tổ dân phố", "Add a residential group"),
    ("Tổng", "Total"),
    ("Năm", "Year"),
    ("tầng", "floors"),
    ("căn hộ", "apartments"),
    ("nhân khẩu", "residents"),
    ("người nước ngoài", "foreigners"),
    ("phòng", "rooms"),
    ("người lưu trú", "lodgers"),
    ("lượt khách", "visitors"),
    ("Lực lượng", "Forces"),
];
