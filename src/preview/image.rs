//! Images: dimensions from PNG, JPEG and GIF headers without decoding pixels, and pixels
//! (PNG, JPEG, GIF with the `image` crate, SVG rasterised by resvg) for drawing and comparing.

use std::sync::Arc;

/// Decoded images are bounded: a hostile header may claim any size.
const MAX_SIDE: u32 = 8192;
const MAX_DECODE_BYTES: u64 = 256 << 20;
/// SVGs are rasterised to at most this many pixels a side (terminals show far fewer).
const SVG_SIDE: f32 = 1024.0;

/// Decoded pixels, compared by identity (a preview holds one `Arc` per image).
#[derive(Clone)]
pub struct Picture(pub Arc<image::DynamicImage>);

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Picture({}×{})", self.0.width(), self.0.height())
    }
}

impl PartialEq for Picture {
    fn eq(&self, other: &Picture) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Picture {}

/// Whether `mime` is an image this module can draw.
pub fn is_drawable(mime: &str) -> bool {
    matches!(
        mime.split(';').next().unwrap_or("").trim(),
        "image/png" | "image/jpeg" | "image/gif" | "image/svg+xml"
    )
}

/// The pixels of a PNG, JPEG, GIF or SVG output, within the size bounds.
pub fn decode(mime: &str, bytes: &[u8]) -> Option<Picture> {
    let essence = mime.split(';').next().unwrap_or("").trim();
    let image = if essence == "image/svg+xml" {
        rasterise_svg(bytes)?
    } else {
        let format = match essence {
            "image/png" => image::ImageFormat::Png,
            "image/jpeg" => image::ImageFormat::Jpeg,
            "image/gif" => image::ImageFormat::Gif,
            _ => return None,
        };
        let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        reader.limits(limits);
        reader.decode().ok()?
    };
    Some(Picture(Arc::new(image)))
}

/// An SVG drawn by resvg (shapes and embedded images; text needs fonts and is left out).
fn rasterise_svg(bytes: &[u8]) -> Option<image::DynamicImage> {
    let tree = resvg::usvg::Tree::from_data(bytes, &resvg::usvg::Options::default()).ok()?;
    let size = tree.size();
    let scale = (SVG_SIDE / size.width().max(size.height())).min(4.0);
    let (w, h) = (
        (size.width() * scale).ceil().max(1.0) as u32,
        (size.height() * scale).ceil().max(1.0) as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let rgba = image::RgbaImage::from_raw(w, h, pixmap.take())?;
    Some(image::DynamicImage::ImageRgba8(rgba))
}

/// (width, height) when the header is one we know and is intact.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    png(bytes).or_else(|| gif(bytes)).or_else(|| jpeg(bytes))
}

/// The decoded pixels of a PNG (8-bit RGBA or as stored), for comparing two images.
pub fn png_pixels(bytes: &[u8]) -> Option<Vec<u8>> {
    png(bytes)?;
    let mut decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(::png::Transformations::EXPAND);
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    Some(buf)
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn png(b: &[u8]) -> Option<(u32, u32)> {
    if !b.starts_with(b"\x89PNG\r\n\x1a\n") || b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(b, 16)?, be32(b, 20)?))
}

fn gif(b: &[u8]) -> Option<(u32, u32)> {
    if !(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
        return None;
    }
    let le16 = |at: usize| Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32);
    Some((le16(6)?, le16(8)?))
}

/// Walks the marker segments up to the first start-of-frame.
fn jpeg(b: &[u8]) -> Option<(u32, u32)> {
    if !b.starts_with(&[0xff, 0xd8]) {
        return None;
    }
    let mut at = 2;
    loop {
        while *b.get(at)? == 0xff && *b.get(at + 1)? == 0xff {
            at += 1;
        }
        if *b.get(at)? != 0xff {
            return None;
        }
        let marker = *b.get(at + 1)?;
        let is_frame = (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker);
        if is_frame {
            return Some((be16(b, at + 7)?, be16(b, at + 5)?));
        }
        let len = be16(b, at + 2)? as usize;
        if len < 2 {
            return None;
        }
        at += 2 + len;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0]);
        b
    }

    #[test]
    fn reads_png_gif_and_jpeg_sizes() {
        assert_eq!(dimensions(&png_header(640, 480)), Some((640, 480)));
        let gif = [b"GIF89a".as_slice(), &[0x20, 0x01, 0x10, 0x00]].concat();
        assert_eq!(dimensions(&gif), Some((288, 16)));
        let jpeg = [
            &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00][..],
            &[0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x78, 0x00, 0xa0],
        ]
        .concat();
        assert_eq!(dimensions(&jpeg), Some((160, 120)));
    }

    #[test]
    fn images_decode_to_pixels_within_bounds() {
        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(3, 2)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let picture = decode("image/png", &png).unwrap();
        assert_eq!((picture.0.width(), picture.0.height()), (3, 2));
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" height="10" fill="red"/></svg>"#;
        let picture = decode("image/svg+xml", svg).unwrap();
        // Small drawings are enlarged at most four times.
        assert_eq!((picture.0.width(), picture.0.height()), (80, 40));
        assert!(decode("image/png", &png_header(100_000, 100_000)).is_none());
        assert!(decode("image/svg+xml", b"<svg").is_none());
    }

    #[test]
    fn truncated_or_unknown_headers_give_none() {
        assert_eq!(dimensions(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(dimensions(&[0xff, 0xd8, 0xff]), None);
        assert_eq!(dimensions(b"hello"), None);
    }
}
