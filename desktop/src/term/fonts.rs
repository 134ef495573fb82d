//! Fallback fonts for what egui's bundled fonts lack (CJK, mostly): the first one of a
//! few well-known system fonts that exists is added behind the monospace and
//! proportional families.

use std::sync::Arc;

/// System fonts with wide CJK coverage, in order of preference.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
];

/// Adds the first system CJK font found as a fallback; returns its path.
pub fn add_fallbacks(ctx: &egui::Context) -> Option<&'static str> {
    let (path, bytes) = CANDIDATES
        .iter()
        .find_map(|p| std::fs::read(p).ok().map(|b| (*p, b)))?;
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "fallback-cjk".into(),
        Arc::new(egui::FontData::from_owned(bytes)),
    );
    for family in [egui::FontFamily::Monospace, egui::FontFamily::Proportional] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push("fallback-cjk".into());
    }
    ctx.set_fonts(fonts);
    Some(path)
}
