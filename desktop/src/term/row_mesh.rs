//! Turning one row of cells into one textured mesh, without egui's text layout.
//!
//! egui's layout shapes every same-look run of text as its own section; a screen whose
//! every cell has its own colour is 12 000 sections, far over a frame. A terminal needs
//! none of that: every cell has its place. So each distinct glyph is laid out once per
//! face (by egui, so fallback fonts, faces and the atlas stay egui's), its quads are kept, and a
//! row is those quads copied to their cells and tinted, behind them the background runs
//! and under them the underlines. A row's mesh is kept while its cells do not change.

use std::{collections::HashMap, sync::Arc};

use egui::{
    Color32, FontId, Mesh, Painter, Pos2, Rect, Vec2,
    epaint::{
        Galley, Vertex,
        text::{PlacedRow, RowVisuals},
    },
    text::{LayoutJob, TextFormat},
};

use super::fonts::{Faces, Styled};

/// The resolved look of one cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// Glyph colour.
    pub fg: Color32,
    /// Background colour.
    pub bg: Color32,
    /// The bold face (drawn twice, a pixel apart, where there is none).
    pub bold: bool,
    /// The italic face (slanted by egui where there is none).
    pub italic: bool,
    /// A line under the cell.
    pub underline: bool,
}

/// One cell as the mesh sees it: its glyph's length in [`RowKey::text`], its look and
/// how many cells it covers (0 for the right half of a wide character).
#[derive(Debug, Clone, Copy, PartialEq)]
struct CellKey {
    len: u16,
    width: u8,
    look: Look,
}

/// Everything a row's mesh depends on; equal keys give equal meshes.
#[derive(Debug, Default, PartialEq)]
pub struct RowKey {
    text: String,
    cells: Vec<CellKey>,
}

impl RowKey {
    fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
    }

    /// Adds the next cell: `glyph` is empty for a blank, `width` 0 for the right half of
    /// a wide character.
    pub fn push(&mut self, glyph: &str, width: u8, look: Look) {
        // A cell holds a character and its combining marks; longer is hostile, cut it.
        let glyph = &glyph[..glyph.floor_char_boundary(64)];
        self.text.push_str(glyph);
        self.cells.push(CellKey {
            len: glyph.len() as u16,
            width,
            look,
        });
    }
}

/// One glyph's quads as egui laid it out at the origin, in white.
struct GlyphQuads {
    vertices: Vec<Vertex>,
    indices: Vec<u32>,
    size: Vec2,
    /// A colour glyph (emoji) keeps its own colours.
    coloured: bool,
}

/// What the meshes were built for; when any of it changes they are all rebuilt.
struct Basis {
    font: FontId,
    cell: Vec2,
    pixels_per_point: f32,
    /// The widget's background, painted behind every row already.
    background: Color32,
    /// The real bold/italic faces installed (they arrive after the first frames).
    faces: Faces,
    /// A galley egui keeps in its layout cache while it is asked for it every frame. A
    /// new one means egui emptied its font atlas (or changed fonts), and every quad kept
    /// here points at glyphs that are gone. It is also the template of the row galleys.
    template: Arc<Galley>,
}

/// Distinct glyphs kept before the glyph cache starts again (hostile output can make
/// endless combining sequences).
const MAX_GLYPHS: usize = 8192;

/// What a terminal keeps between frames so an unchanged row costs a comparison.
#[derive(Default)]
pub struct RowMeshes {
    basis: Option<Basis>,
    /// Laid-out glyphs, by face: regular, italic, bold, bold italic.
    glyphs: [HashMap<String, GlyphQuads>; 4],
    rows: Vec<(RowKey, Option<Arc<Galley>>)>,
    /// The key being built for the current row.
    scratch: RowKey,
}

impl std::fmt::Debug for RowMeshes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowMeshes")
            .field("rows", &self.rows.len())
            .finish_non_exhaustive()
    }
}

impl RowMeshes {
    /// Starts a frame of `rows` rows on a widget painted `background`: drops everything
    /// if the font, the cell, the scale, the background, the faces or egui's font atlas
    /// changed since the last one.
    pub fn begin(
        &mut self,
        painter: &Painter,
        font: &FontId,
        cell: Vec2,
        background: Color32,
        rows: usize,
    ) {
        let pixels_per_point = painter.pixels_per_point();
        let template = painter.layout_no_wrap("M".into(), font.clone(), Color32::WHITE);
        let faces = Faces::installed(painter.ctx());
        let same = self.basis.as_ref().is_some_and(|b| {
            Arc::ptr_eq(&b.template, &template)
                && b.font == *font
                && b.cell == cell
                && b.pixels_per_point == pixels_per_point
                && b.background == background
                && b.faces == faces
        });
        if !same {
            self.glyphs.iter_mut().for_each(HashMap::clear);
            self.rows.clear();
            self.basis = Some(Basis {
                font: font.clone(),
                cell,
                pixels_per_point,
                background,
                faces,
                template,
            });
        }
        self.rows.resize_with(rows, Default::default);
    }

    /// An empty key for the next row's cells, to fill before [`Self::row`].
    pub fn next_row(&mut self) -> &mut RowKey {
        self.scratch.clear();
        &mut self.scratch
    }

    /// The galley of row `row` for the cells given since [`Self::next_row`], built only
    /// if they changed since the last frame; `None` for a row with nothing to draw.
    pub fn row(&mut self, painter: &Painter, row: usize) -> Option<Arc<Galley>> {
        let (key, galley) = self.rows.get_mut(row)?;
        if *key != self.scratch {
            std::mem::swap(key, &mut self.scratch);
            let basis = self.basis.as_ref()?;
            *galley = build(painter, basis, &mut self.glyphs, key);
        }
        galley.clone()
    }
}

/// Builds the mesh of one row from its key.
fn build(
    painter: &Painter,
    basis: &Basis,
    glyphs: &mut [HashMap<String, GlyphQuads>; 4],
    key: &RowKey,
) -> Option<Arc<Galley>> {
    let ppp = basis.pixels_per_point;
    let px = |v: f32| (v * ppp).round() / ppp;
    let cell = basis.cell;
    let x_of = |col: usize| px(col as f32 * cell.x);
    let mut mesh = Mesh::default();

    // Backgrounds first, as runs of one colour; the default one is painted already.
    let mut run: Option<(usize, Color32)> = None;
    for (col, bg) in key
        .cells
        .iter()
        .map(|c| Some(c.look.bg))
        .chain([None])
        .enumerate()
    {
        if let Some((start, run_bg)) = run
            && Some(run_bg) != bg
        {
            if run_bg != basis.background {
                mesh.add_colored_rect(row_rect(x_of(start), x_of(col), 0.0, cell.y), run_bg);
            }
            run = None;
        }
        if run.is_none() {
            run = bg.map(|bg| (col, bg));
        }
    }

    let bold_shift = px(0.75).max(1.0 / ppp);
    let line = px(1.0).max(1.0 / ppp);
    let mut offset = 0usize;
    for (col, c) in key.cells.iter().enumerate() {
        let glyph = &key.text[offset..offset + c.len as usize];
        offset += c.len as usize;
        if c.width == 0 {
            continue;
        }
        let span = c.width as f32 * cell.x;
        if c.look.underline {
            let x = x_of(col);
            mesh.add_colored_rect(row_rect(x, px(x + span), cell.y - line, cell.y), c.look.fg);
        }
        if glyph.is_empty() || glyph == " " {
            continue;
        }
        let styled = basis
            .faces
            .styled(basis.font.size, c.look.bold, c.look.italic);
        let set = &mut glyphs[usize::from(c.look.bold) * 2 + usize::from(c.look.italic)];
        if !set.contains_key(glyph) {
            if set.len() >= MAX_GLYPHS {
                set.clear();
            }
            set.insert(glyph.to_owned(), lay_out(painter, &styled, glyph));
        }
        let Some(quads) = set.get(glyph) else {
            continue;
        };
        // Centred on its cells: fallback fonts and faces have their own advances.
        let at = Vec2::new(
            px(x_of(col) + (span - quads.size.x) / 2.0),
            px((cell.y - quads.size.y) / 2.0),
        );
        append(&mut mesh, quads, at, c.look.fg);
        if styled.fake_bold {
            append(&mut mesh, quads, at + Vec2::new(bold_shift, 0.0), c.look.fg);
        }
    }
    if mesh.is_empty() {
        return None;
    }
    let size = Vec2::new(x_of(key.cells.len()), cell.y);
    galley_of(&basis.template, mesh, size, ppp)
}

fn row_rect(x0: f32, x1: f32, y0: f32, y1: f32) -> Rect {
    Rect::from_min_max(Pos2::new(x0, y0), Pos2::new(x1, y1))
}

/// The text format of a glyph drawn `styled` in `color`: the face's font, slanted by
/// egui only where there is no italic face.
pub fn glyph_format(styled: &Styled, color: Color32) -> TextFormat {
    TextFormat {
        font_id: styled.font.clone(),
        color,
        italics: styled.fake_italic,
        ..Default::default()
    }
}

/// Lays `glyph` out once with egui, in white, and keeps its quads.
fn lay_out(painter: &Painter, styled: &Styled, glyph: &str) -> GlyphQuads {
    let mut job = LayoutJob::default();
    job.append(glyph, 0.0, glyph_format(styled, Color32::WHITE));
    let galley = painter.layout_job(job);
    let mut quads = GlyphQuads {
        vertices: Vec::new(),
        indices: Vec::new(),
        size: galley.size(),
        coloured: false,
    };
    for placed in &galley.rows {
        let base = quads.vertices.len() as u32;
        let mesh = &placed.visuals.mesh;
        quads.vertices.extend(mesh.vertices.iter().map(|v| Vertex {
            pos: v.pos + placed.pos.to_vec2(),
            ..*v
        }));
        quads.indices.extend(mesh.indices.iter().map(|i| i + base));
        quads.coloured |= placed.glyphs.iter().any(|g| g.is_color);
    }
    quads
}

/// Copies `quads` into `mesh` at `at`, tinted `fg` unless the glyph has its own colours.
fn append(mesh: &mut Mesh, quads: &GlyphQuads, at: Vec2, fg: Color32) {
    let base = mesh.vertices.len() as u32;
    mesh.indices.extend(quads.indices.iter().map(|i| i + base));
    mesh.vertices.extend(quads.vertices.iter().map(|v| Vertex {
        pos: v.pos + at,
        uv: v.uv,
        color: if quads.coloured { v.color } else { fg },
    }));
}

/// A one-row galley showing `mesh`. Its uv coordinates stay in atlas texels, as egui's
/// own galleys do, so the tessellator scales them by the atlas size at the end of the
/// frame, even if the atlas grew after this row was built.
fn galley_of(template: &Galley, mesh: Mesh, size: Vec2, ppp: f32) -> Option<Arc<Galley>> {
    let bounds = mesh.calc_bounds();
    let (vertices, indices) = (mesh.vertices.len(), mesh.indices.len());
    // One character laid out without wrapping is one row.
    let mut row = (*template.rows.first()?.row).clone();
    row.glyphs.clear();
    row.size = size;
    row.visuals = RowVisuals {
        glyph_vertex_range: 0..vertices,
        glyph_index_start: 0,
        mesh_bounds: bounds,
        mesh,
    };
    let mut galley = template.clone();
    galley.rows = vec![PlacedRow {
        pos: Pos2::ZERO,
        row: Arc::new(row),
        ends_with_newline: false,
    }];
    galley.rect = Rect::from_min_size(Pos2::ZERO, size);
    galley.mesh_bounds = bounds;
    galley.num_vertices = vertices;
    galley.num_indices = indices;
    galley.pixels_per_point = ppp;
    Some(Arc::new(galley))
}
