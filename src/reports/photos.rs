//! Photos attached to reports: only JPEG and PNG, at most 5 of 5 MiB each, checked by
//! their bytes (not their names), and stored without the metadata that can carry the
//! phone's position (JPEG APP1 Exif/XMP, PNG eXIf and text chunks).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::domain::Invalid;

pub const MAX_PHOTOS: usize = 5;
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

pub struct Cleaned {
    pub content_type: &'static str,
    pub extension: &'static str,
    pub bytes: Vec<u8>,
}

pub fn clean(bytes: &[u8]) -> Result<Cleaned, Invalid> {
    if bytes.len() > MAX_BYTES {
        return Err(Invalid("Mỗi ảnh tối đa 5 MiB."));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let cleaned = strip_jpeg(bytes).ok_or(Invalid("Tệp ảnh JPEG bị hỏng."))?;
        Ok(Cleaned {
            content_type: "image/jpeg",
            extension: "jpg",
            bytes: cleaned,
        })
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let cleaned = strip_png(bytes).ok_or(Invalid("Tệp ảnh PNG bị hỏng."))?;
        Ok(Cleaned {
            content_type: "image/png",
            extension: "png",
            bytes: cleaned,
        })
    } else {
        Err(Invalid("Ảnh phải là tệp JPEG hoặc PNG."))
    }
}

/// Copy a JPEG without its APP1 (Exif, XMP) and APP13 (IPTC) segments.
fn strip_jpeg(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    loop {
        if i + 4 > b.len() || b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xD9 {
            out.extend_from_slice(&b[i..]);
            return Some(out);
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let end = i + 2 + len;
        if len < 2 || end > b.len() {
            return None;
        }
        if marker != 0xE1 && marker != 0xED {
            out.extend_from_slice(&b[i..end]);
        }
        if marker == 0xDA {
            // Start of scan: the entropy-coded image follows to the end.
            out.extend_from_slice(&b[end..]);
            return Some(out);
        }
        i = end;
    }
}

/// Copy a PNG without its eXIf and text chunks.
fn strip_png(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = b[..8].to_vec();
    let mut i = 8;
    while i + 12 <= b.len() {
        let len = u32::from_be_bytes(b[i..i + 4].try_into().ok()?) as usize;
        let end = i.checked_add(12)?.checked_add(len)?;
        if end > b.len() {
            return None;
        }
        let kind = &b[i + 4..i + 8];
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            out.extend_from_slice(&b[i..end]);
        }
        if kind == b"IEND" {
            return Some(out);
        }
        i = end;
    }
    None
}

/// Where photos live: `DATA/photos/<sha256>.<ext>`; the same photo is stored once.
pub fn store(data_dir: &Path, photo: &Cleaned) -> std::io::Result<(String, String)> {
    let sha = hex::encode(Sha256::digest(&photo.bytes));
    let dir = data_dir.join("photos");
    std::fs::create_dir_all(&dir)?;
    let name = format!("{sha}.{}", photo.extension);
    let path = dir.join(&name);
    if !path.exists() {
        // Write then rename, and sync, so that a stored name always has its whole file.
        let tmp = dir.join(format!(".{name}.tmp"));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&photo.bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
    }
    Ok((name, sha))
}

pub fn path_of(data_dir: &Path, file_name: &str) -> Option<PathBuf> {
    let ok = file_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !file_name.starts_with('.');
    ok.then(|| data_dir.join("photos").join(file_name))
}

pub const TEXTS: crate::i18n::Texts = &[
    ("Mỗi ảnh tối đa 5 MiB.", "Each photo may be at most 5 MiB."),
    ("Tệp ảnh JPEG bị hỏng.", "The JPEG photo is damaged."),
    ("Tệp ảnh PNG bị hỏng.", "The PNG photo is damaged."),
    (
        "Ảnh phải là tệp JPEG hoặc PNG.",
        "Photos must be JPEG or PNG files.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_exif() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        // APP0 JFIF
        b.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x06, b'J', b'F', b'I', b'F']);
        // APP1 Exif with a GPS-looking payload
        let exif = b"Exif\0\0GPS 20.85N 106.69E";
        b.extend_from_slice(&[0xFF, 0xE1]);
        b.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        b.extend_from_slice(exif);
        // SOS and some data, then EOI
        b.extend_from_slice(&[
            0xFF, 0xDA, 0x00, 0x04, 0x01, 0x02, 0x11, 0x22, 0x33, 0xFF, 0xD9,
        ]);
        b
    }

    #[test]
    fn jpeg_loses_its_exif() {
        let cleaned = clean(&jpeg_with_exif()).unwrap();
        assert_eq!(cleaned.content_type, "image/jpeg");
        let s = String::from_utf8_lossy(&cleaned.bytes);
        assert!(!s.contains("GPS") && !s.contains("Exif"), "{s}");
        assert!(s.contains("JFIF"));
        assert!(cleaned.bytes.ends_with(&[0x11, 0x22, 0x33, 0xFF, 0xD9]));
    }

    #[test]
    fn png_loses_its_text_and_exif() {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        b.extend(chunk(b"IHDR", &[0; 13]));
        b.extend(chunk(b"eXIf", b"GPS here"));
        b.extend(chunk(b"tEXt", b"Comment\0home"));
        b.extend(chunk(b"IEND", &[]));
        let cleaned = clean(&b).unwrap();
        let s = String::from_utf8_lossy(&cleaned.bytes);
        assert!(!s.contains("GPS") && !s.contains("home"));
        assert!(s.contains("IHDR") && s.contains("IEND"));
    }

    #[test]
    fn refuses_other_types_and_damage() {
        assert!(clean(b"GIF89a....").is_err());
        assert!(clean(b"<script>alert(1)</script>").is_err());
        let mut broken = jpeg_with_exif();
        broken.truncate(12);
        assert!(clean(&broken).is_err());
        assert!(clean(&vec![0xFF; MAX_BYTES + 1]).is_err());
    }
}
