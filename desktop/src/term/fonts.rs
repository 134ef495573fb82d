//! Fonts beyond egui's bundled ones, found on the system rather than from a fixed list:
//!
//! - **Fallbacks**: a glyph no installed font has (Claude Code's ⏺ ✻ ⎿, braille
//!   spinners, emoji, CJK, …) is looked up through the system's own font fallback
//!   (fontconfig, CoreText, DirectWrite) by egui's [`SystemFontProvider`], once per
//!   character, and only the font it picks is memory-mapped. Colour emoji (CBDT/COLR,
//!   e.g. Noto Color Emoji) are drawn in colour: the provider turns on epaint's
//!   `color_fonts`.
//! - **Bold and italic faces**: the real bold, italic and bold-italic faces of the
//!   monospace font (Hack's own if installed, else DejaVu Sans Mono, the family Hack
//!   derives from and shares metrics with, else the system's monospace) under the
//!   families [`face_family`] names. Where a face is missing the renderer fakes it
//!   (bold drawn twice, italic slanted).
//!
//! Both enumerate the system fonts, which takes a while, on background threads: the
//! window shows at once and glyphs appear as their fonts arrive.

use std::sync::Arc;

use egui::{
    FontData, FontFamily, FontId, FontInsert, FontPriority, InsertFontFamily,
    epaint::text::FontDefinitions,
};
use egui_system_font_provider::SystemFontProvider;
use fontique::{
    Attributes, Collection, CollectionOptions, FontStyle, FontWeight, FontWidth, GenericFamily,
    QueryFamily, QueryStatus, SourceCache,
};

/// A monospace face besides the regular one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Face {
    /// Bold, upright.
    Bold,
    /// Regular weight, italic (or oblique).
    Italic,
    /// Bold and italic.
    BoldItalic,
}

impl Face {
    /// All of them.
    pub const ALL: [Face; 3] = [Face::Bold, Face::Italic, Face::BoldItalic];

    /// The face for a cell's attributes; `None` for the regular one.
    pub fn of(bold: bool, italic: bool) -> Option<Face> {
        match (bold, italic) {
            (false, false) => None,
            (true, false) => Some(Face::Bold),
            (false, true) => Some(Face::Italic),
            (true, true) => Some(Face::BoldItalic),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Face::Bold => "vibemesh-mono-bold",
            Face::Italic => "vibemesh-mono-italic",
            Face::BoldItalic => "vibemesh-mono-bold-italic",
        }
    }

    fn attributes(self) -> Attributes {
        let (style, weight) = match self {
            Face::Bold => (FontStyle::Normal, FontWeight::BOLD),
            Face::Italic => (FontStyle::Italic, FontWeight::NORMAL),
            Face::BoldItalic => (FontStyle::Italic, FontWeight::BOLD),
        };
        Attributes::new(FontWidth::NORMAL, style, weight)
    }
}

/// The egui family that draws `face`.
pub fn face_family(face: Face) -> FontFamily {
    FontFamily::Name(face.name().into())
}

/// Whether the fonts in `definitions` hold the real `face` (it is found in the
/// background, so early frames, or a system without it, fake it instead).
pub fn has_face(definitions: &FontDefinitions, face: Face) -> bool {
    definitions.font_data.contains_key(face.name())
        && definitions.families.contains_key(&face_family(face))
}

/// Which real faces a context's fonts hold right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faces {
    bold: bool,
    italic: bool,
    bold_italic: bool,
}

/// How to draw a cell's glyph: the font, and what the renderer must still fake.
#[derive(Debug, Clone, PartialEq)]
pub struct Styled {
    /// The font (a real face's family where there is one).
    pub font: FontId,
    /// No bold face: draw the glyph twice, a pixel apart.
    pub fake_bold: bool,
    /// No italic face: let egui slant the glyph.
    pub fake_italic: bool,
}

impl Faces {
    /// The faces installed in `ctx` (cheap: a few map lookups).
    pub fn installed(ctx: &egui::Context) -> Faces {
        ctx.fonts(|f| {
            let d = f.definitions();
            Faces {
                bold: has_face(d, Face::Bold),
                italic: has_face(d, Face::Italic),
                bold_italic: has_face(d, Face::BoldItalic),
            }
        })
    }

    fn has(&self, face: Face) -> bool {
        match face {
            Face::Bold => self.bold,
            Face::Italic => self.italic,
            Face::BoldItalic => self.bold_italic,
        }
    }

    /// How to draw text of `size` (monospace) that is `bold` and/or `italic`: the
    /// real face if installed, else the nearest one with the rest faked.
    pub fn styled(&self, size: f32, bold: bool, italic: bool) -> Styled {
        let candidates: &[Face] = match Face::of(bold, italic) {
            None => &[],
            Some(Face::BoldItalic) => &[Face::BoldItalic, Face::Bold, Face::Italic],
            Some(Face::Bold) => &[Face::Bold],
            Some(Face::Italic) => &[Face::Italic],
        };
        let face = candidates.iter().copied().find(|f| self.has(*f));
        let family = face.map_or(FontFamily::Monospace, face_family);
        let (real_bold, real_italic) = match face {
            None => (false, false),
            Some(Face::Bold) => (true, false),
            Some(Face::Italic) => (false, true),
            Some(Face::BoldItalic) => (true, true),
        };
        Styled {
            font: FontId::new(size, family),
            fake_bold: bold && !real_bold,
            fake_italic: italic && !real_italic,
        }
    }
}

/// Monospace families whose bold and italic suit egui's Hack, best first.
const FACE_FAMILIES: [QueryFamily<'static>; 3] = [
    QueryFamily::Named("Hack"),
    QueryFamily::Named("DejaVu Sans Mono"),
    QueryFamily::Generic(GenericFamily::Monospace),
];

/// Installs the system font fallback into `ctx` and starts looking for the bold and
/// italic faces; they are added to `ctx` when found. Call once per context. The
/// returned thread ends when the faces are installed (tests join it; the app need not).
pub fn add_fallbacks(ctx: &egui::Context) -> std::thread::JoinHandle<()> {
    ctx.add_font_provider(Arc::new(SystemFontProvider::new()));
    let ctx = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name("vibemesh-font-faces".into())
        .spawn(move || add_faces(&ctx));
    match spawned {
        Ok(handle) => handle,
        Err(e) => {
            // Without the thread, bold and italic stay faked; nothing else is lost.
            tracing::warn!("could not start looking for bold/italic fonts: {e}");
            std::thread::spawn(|| ())
        }
    }
}

/// Finds and installs the faces (blocking: enumerates the system's fonts).
fn add_faces(ctx: &egui::Context) {
    let start = std::time::Instant::now();
    let mut collection = Collection::new(CollectionOptions {
        shared: false,
        system_fonts: true,
    });
    let mut cache = SourceCache::default();
    for face in Face::ALL {
        let Some(data) = find_face(&mut collection, &mut cache, face) else {
            tracing::info!("no real {face:?} monospace face; it is faked");
            continue;
        };
        ctx.add_font(FontInsert {
            name: face.name().into(),
            data,
            families: vec![InsertFontFamily {
                family: face_family(face),
                priority: FontPriority::Highest,
            }],
        });
    }
    tracing::debug!("bold/italic faces found in {:?}", start.elapsed());
    ctx.request_repaint();
}

/// The first of [`FACE_FAMILIES`] with a real (not synthesised) `face`.
fn find_face(collection: &mut Collection, cache: &mut SourceCache, face: Face) -> Option<FontData> {
    let mut query = collection.query(cache);
    query.set_families(FACE_FAMILIES);
    query.set_attributes(face.attributes());
    let mut found = None;
    query.matches_with(|font| {
        // A synthesised match is the regular face asking to be faked: the renderer
        // already fakes it; keep looking for a family that has the real one.
        let real = !font.synthesis.embolden() && font.synthesis.skew().is_none();
        // Variable fonts would need their axes set, which epaint does not do.
        if real && font.synthesis.variation_settings().is_empty() {
            found = Some(font.clone());
            QueryStatus::Stop
        } else {
            QueryStatus::Continue
        }
    });
    let font = found?;
    let (blob, _) = font.blob.into_raw_parts();
    Some(FontData::from_blob(blob, font.index))
}
