//! Tables fitted to the terminal without breaking an id: an id column keeps its widest id, the
//! widest text columns give way first, and a text cell too long for its column is shortened to
//! one line ending in "…". With no width to fit (not a terminal, no COLUMNS) or with `--wide`,
//! everything is printed in full, as it always was. A table with optional columns (numbers, kept
//! whole) leaves out the least important of them first when it cannot fit, and says how many.

use comfy_table::{Cell, ContentArrangement, presets};
use flightrec::report::{self, Column};
use unicode_width::UnicodeWidthStr;

use super::{Style, visible};

/// The headings of the command tables' id columns: session, event and thread ids.
const ID_HEADINGS: &[&str] = &["SESSION", "ID", "START ID", "STREAM", "THREAD"];

/// The space comfy-table puts around a cell (one column each side).
const PADDING: usize = 2;

/// The narrowest a text column is made (then "…" alone would say little).
const MIN_TEXT: usize = 3;

/// How wide a text column counts, at most, when deciding which optional columns to leave out:
/// a text column is shortened to this before a number is left out.
const TEXT_FLOOR: usize = 10;

/// A table of cells made visible (event text cannot turn into a colour), styled by us when colour
/// is on, and fitted to the width when there is one. Laid out when displayed.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<(Style, String)>>,
    ids: Vec<usize>,
    /// Columns kept whole or left out, most important first.
    optional: Vec<usize>,
}

/// The width tables fit: none with `--wide`, else COLUMNS, else the terminal's when stdout is one.
fn fit_width() -> Option<usize> {
    if super::settings().wide {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        super::terminal_size().map(|(cols, _)| usize::from(cols))
    } else {
        None
    }
}

/// The column widths that fit `total` columns of terminal: id columns keep their `natural`
/// width; while too wide, the widest text column loses one (not below [`MIN_TEXT`] or its
/// natural width). None when it already fits.
pub fn fit(natural: &[usize], ids: &[usize], total: usize) -> Option<Vec<usize>> {
    let line = |w: &[usize]| w.iter().map(|c| c + PADDING).sum::<usize>();
    if line(natural) <= total {
        return None;
    }
    let mut w = natural.to_vec();
    while line(&w) > total {
        let widest = (0..w.len())
            .filter(|i| !ids.contains(i) && w[*i] > MIN_TEXT)
            .max_by_key(|&i| (w[i], std::cmp::Reverse(i)));
        match widest {
            Some(i) => w[i] -= 1,
            None => break,
        }
    }
    Some(w)
}

/// Which columns of `natural` widths are kept at `total` columns: the `optional` ones (most
/// important first) are left out from the last while the rest cannot fit with text columns at
/// [`TEXT_FLOOR`] and ids and optional columns whole.
pub fn kept(natural: &[usize], ids: &[usize], optional: &[usize], total: usize) -> Vec<bool> {
    let mut keep = vec![true; natural.len()];
    let least = |keep: &[bool]| -> usize {
        (0..natural.len())
            .filter(|&i| keep[i])
            .map(|i| {
                let whole = ids.contains(&i) || optional.contains(&i);
                PADDING
                    + if whole {
                        natural[i]
                    } else {
                        natural[i].min(TEXT_FLOOR)
                    }
            })
            .sum()
    };
    for &i in optional.iter().rev() {
        if least(&keep) <= total {
            break;
        }
        if let Some(k) = keep.get_mut(i) {
            *k = false;
        }
    }
    keep
}

/// `text` on one line of at most `width` columns: cut, with "…", when longer (or on more lines).
pub fn shorten(text: &str, width: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    if first.width() <= width && first.len() == text.trim_end_matches('\n').len() {
        return first.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in first.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > width {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// The widest line of a cell.
fn cell_width(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

impl Table {
    /// A table whose id columns are the given ones.
    pub fn with_ids(header: &[&str], ids: &[usize]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            ids: ids.to_vec(),
            optional: Vec::new(),
        }
    }

    /// Marks columns as kept whole or left out, most important first.
    pub fn with_optional(mut self, optional: &[usize]) -> Table {
        self.optional = optional.to_vec();
        self
    }

    /// The cells of one row, unstyled.
    pub fn add_row(&mut self, cells: Vec<String>) -> &mut Self {
        self.add_styled_row(cells.into_iter().map(|c| (Style::Plain, c)).collect())
    }

    /// The cells of one row, each with its style (used when colour is on).
    pub fn add_styled_row(&mut self, cells: Vec<(Style, String)>) -> &mut Self {
        let cells = cells
            .into_iter()
            .map(|(style, text)| (style, visible(&text).into_owned()))
            .collect();
        self.rows.push(cells);
        self
    }

    /// The columns kept and the widths to shorten them to, if the table must be fitted.
    fn plan(&self) -> Option<Plan> {
        let total = fit_width()?;
        let mut natural: Vec<usize> = self.header.iter().map(|h| cell_width(h)).collect();
        for row in &self.rows {
            for (i, (_, text)) in row.iter().enumerate() {
                if let Some(n) = natural.get_mut(i) {
                    *n = (*n).max(cell_width(text));
                }
            }
        }
        let keep = kept(&natural, &self.ids, &self.optional, total);
        let columns: Vec<usize> = (0..natural.len()).filter(|&i| keep[i]).collect();
        let whole: Vec<usize> = (0..columns.len())
            .filter(|&k| self.ids.contains(&columns[k]) || self.optional.contains(&columns[k]))
            .collect();
        let widths = fit(
            &columns.iter().map(|&i| natural[i]).collect::<Vec<_>>(),
            &whole,
            total,
        );
        Some(Plan {
            left_out: natural.len() - columns.len(),
            widths: widths.map(|w| columns.iter().copied().zip(w).collect()),
            columns,
            total,
        })
    }
}

/// How a table is fitted: the columns kept (by index), each one's width when shortened.
struct Plan {
    columns: Vec<usize>,
    widths: Option<Vec<(usize, usize)>>,
    left_out: usize,
    total: usize,
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plan = self.plan();
        let shown: Vec<usize> = match &plan {
            Some(p) => p.columns.clone(),
            None => (0..self.header.len()).collect(),
        };
        let width = |i: usize| {
            plan.as_ref()
                .and_then(|p| p.widths.as_ref())
                .and_then(|w| w.iter().find(|(c, _)| *c == i).map(|(_, w)| *w))
        };
        let cut = |i: usize, text: &str| match width(i) {
            Some(w) if !self.ids.contains(&i) && !self.optional.contains(&i) => shorten(text, w),
            _ => text.to_string(),
        };
        let color = super::settings().color;
        let mut t = comfy_table::Table::new();
        t.load_style(presets::NOTHING)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(shown.iter().map(|&i| cut(i, &self.header[i])));
        if color {
            t.enforce_styling().style_text_only();
        }
        for row in &self.rows {
            t.add_row(shown.iter().filter_map(|&i| row.get(i)).enumerate().map(
                |(k, (style, text))| {
                    let text = cut(shown[k], text);
                    if color {
                        style.cell(text)
                    } else {
                        Cell::new(text)
                    }
                },
            ));
        }
        t.fmt(f)?;
        match &plan {
            Some(p) if p.left_out > 0 => write!(
                f,
                "\n({} columns left out to fit {} columns: --wide shows them)",
                p.left_out, p.total
            ),
            _ => Ok(()),
        }
    }
}

/// A plain table fitted as above, its id columns known by their headings ([`ID_HEADINGS`]).
pub fn table(header: &[&str]) -> Table {
    let ids: Vec<usize> = (0..header.len())
        .filter(|&i| ID_HEADINGS.contains(&header[i]))
        .collect();
    Table::with_ids(header, &ids)
}

/// A report's table laid out as a [`Table`], its id columns the ones the report marked.
pub fn layout(t: &report::Table) -> String {
    let header: Vec<&str> = t.header.iter().map(String::as_str).collect();
    let ids: Vec<usize> = (0..t.header.len())
        .filter(|&i| t.column(i) == Column::Id)
        .collect();
    let mut laid = Table::with_ids(&header, &ids).with_optional(&t.optional);
    for row in &t.rows {
        laid.add_row(row.clone());
    }
    laid.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widest_text_gives_way_and_ids_keep_their_width() {
        assert_eq!(fit(&[10, 20], &[], 40), None);
        // 29-wide id, text columns 40 and 8, 80 columns: the 40 gives way down to 37.
        assert_eq!(fit(&[29, 40, 8], &[0], 80), Some(vec![29, 37, 8]));
        let w = fit(&[29, 24, 24, 8], &[0], 60).unwrap();
        assert_eq!(w[0], 29);
        assert!(w.iter().map(|c| c + PADDING).sum::<usize>() <= 60, "{w:?}");
        // Nothing left to shorten: the ids stay whole even past the width.
        assert_eq!(fit(&[29, 29], &[0, 1], 40), Some(vec![29, 29]));
    }

    #[test]
    fn optional_columns_are_left_out_least_important_first() {
        // 29-wide id, a 25-wide title, four 8-wide numbers (most important: 2, then 3, 4, 5).
        let natural = [29, 25, 8, 8, 8, 8];
        let all = kept(&natural, &[0], &[2, 3, 4, 5], 200);
        assert!(all.iter().all(|k| *k));
        // 31 + 12 (title at the floor) + 10 per number: two fit in 63.
        let keep = kept(&natural, &[0], &[2, 3, 4, 5], 63);
        assert_eq!(keep, [true, true, true, true, false, false]);
        // Nothing optional left: the id and the title stay.
        let keep = kept(&natural, &[0], &[2, 3, 4, 5], 20);
        assert_eq!(keep, [true, true, false, false, false, false]);
    }

    #[test]
    fn shortened_text_ends_in_an_ellipsis_on_one_line() {
        assert_eq!(shorten("running", 10), "running");
        assert_eq!(shorten("session.status_running", 10), "session.s…");
        assert_eq!(shorten("a\nb", 10), "a…");
        assert_eq!(shorten("“We need”", 5), "“We …");
    }
}
