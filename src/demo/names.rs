//! Word lists for generated people: Vietnamese names, mobile prefixes, duty posts.
//! Everything here is written precomposed (NFC).

/// Family names with rough weights (Nguyễn is by far the most common).
pub(super) const FAMILY: &[(&str, u32)] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 50),
    ("Vũ", 40),
    ("Đặng", 25),
    ("Bùi", 25),
    ("Đỗ", 25),
    ("Hồ", 15),
    ("Ngô", 15),
    ("Dương", 12),
    ("Phan", 12),
    ("Đinh", 8),
    ("Trịnh", 8),
    ("Đào", 8),
    ("Lương", 6),
    ("Mai", 6),
    ("Cao", 5),
    ("Tô", 4),
];

pub(super) const MALE_MIDDLE: &[&str] = &[
    "Văn", "Văn", "Văn", "Đức", "Minh", "Hữu", "Quang", "Thanh", "Xuân", "Công", "Mạnh", "Ngọc",
    "Trọng", "Quốc",
];

pub(super) const FEMALE_MIDDLE: &[&str] = &[
    "Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Minh", "Thanh", "Hồng", "Bích", "Phương", "Kim",
];

pub(super) const MALE_GIVEN: &[&str] = &[
    "Hùng", "Dũng", "Tuấn", "Nam", "Long", "Hải", "Sơn", "Thắng", "Cường", "Quân", "Hưng", "Phong",
    "Trung", "Khánh", "Bình", "Toàn", "Tùng", "Vinh", "Thành", "Hiếu", "Đạt", "Kiên", "Lâm", "Huy",
    "Việt", "Thịnh", "Tiến", "Hoà", "Lợi", "Chiến", "Quyết", "Thuận", "Phúc", "Tâm", "Hoàn",
    "Định",
];

pub(super) const FEMALE_GIVEN: &[&str] = &[
    "Lan",
    "Hương",
    "Hoa",
    "Mai",
    "Hạnh",
    "Thảo",
    "Linh",
    "Nga",
    "Huyền",
    "Yến",
    "Trang",
    "Thủy",
    "Hằng",
    "Loan",
    "Dung",
    "Nhung",
    "Oanh",
    "Phượng",
    "Liên",
    "Vân",
    "Hà",
    "Tuyết",
];

/// Mobile prefixes in use in Vietnam (after the 2018 renumbering); 7 digits follow.
pub(super) const PHONE_PREFIXES: &[&str] = &[
    "090", "091", "093", "094", "096", "097", "098", "086", "088", "089", "070", "076", "077",
    "078", "079", "081", "082", "083", "084", "085", "032", "033", "034", "035", "036", "037",
    "038", "039", "056", "058", "059",
];

/// Lanes and streets for the addresses of Lạch Tray residents.
pub(super) const LACH_TRAY_STREETS: &[&str] = &["đường Lạch Tray"];

/// Lanes and streets for the addresses of Dư Hàng Kênh residents.
pub(super) const DU_HANG_KENH_STREETS: &[&str] = &[
    "đường Chợ Hàng",
    "đường Miếu Hai Xã",
    "đường Nguyễn Văn Linh",
    "đường Hồ Sen",
];
