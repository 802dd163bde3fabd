//! A link as a QR code picture (PNG) for the messengers that can send one: black modules on
//! white, four modules of quiet zone, at least 400 pixels wide, to print or scan from a screen.
//! Drawn here from the code's modules and written with `png`, not through an image library.

/// The side the picture is at least, in pixels.
const MIN_SIDE: usize = 400;
/// The white border around the code, in modules (what the standard asks for).
const QUIET_ZONE: usize = 4;

/// `text` as a QR code picture, or `None` when it is too long for one.
pub fn qr_png(text: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let across = modules + 2 * QUIET_ZONE;
    let scale = MIN_SIDE.div_ceil(across);
    let side = across * scale;
    let is_dark = |x: usize, y: usize| {
        let (column, row) = (x / scale, y / scale);
        (QUIET_ZONE..QUIET_ZONE + modules).contains(&column)
            && (QUIET_ZONE..QUIET_ZONE + modules).contains(&row)
            && code[(column - QUIET_ZONE, row - QUIET_ZONE)] == qrcode::Color::Dark
    };
    let pixels: Vec<u8> = (0..side)
        .flat_map(|y| (0..side).map(move |x| (x, y)))
        .map(|(x, y)| if is_dark(x, y) { 0 } else { 255 })
        .collect();
    let side = u32::try_from(side).ok()?;
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    Some(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The picture, read back: its side and its grey pixels.
    fn read(png: &[u8]) -> (usize, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.width, info.height);
        (info.width as usize, pixels)
    }

    #[test]
    fn a_link_becomes_a_scannable_picture() {
        let code = qrcode::QrCode::new(b"https://t.me/sferum_bot?start=p-8f3k2j4h").unwrap();
        let (side, pixels) = read(&qr_png("https://t.me/sferum_bot?start=p-8f3k2j4h").unwrap());
        assert!(side >= MIN_SIDE, "{side}");
        let scale = side / (code.width() + 2 * QUIET_ZONE);
        assert_eq!(side % scale, 0);
        let at = |column: usize, row: usize| {
            pixels[(row * scale + scale / 2) * side + column * scale + scale / 2]
        };
        // The quiet zone is white, every module is the code's.
        assert_eq!(at(0, 0), 255);
        assert_eq!(at(QUIET_ZONE - 1, QUIET_ZONE), 255);
        let colors = code.to_colors();
        for row in 0..code.width() {
            for column in 0..code.width() {
                let expected = match colors[row * code.width() + column] {
                    qrcode::Color::Dark => 0,
                    qrcode::Color::Light => 255,
                };
                assert_eq!(
                    at(column + QUIET_ZONE, row + QUIET_ZONE),
                    expected,
                    "{column},{row}"
                );
            }
        }
        // The finder pattern's corner.
        assert_eq!(at(QUIET_ZONE, QUIET_ZONE), 0);
    }

    #[test]
    fn text_too_long_for_a_code_has_no_picture() {
        assert_eq!(qr_png(&"x".repeat(8000)), None);
    }
}
