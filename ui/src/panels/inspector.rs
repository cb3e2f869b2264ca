//! The event at the cursor: its envelope, its JSON (a collapsible tree, or the text indented with
//! its keys in the order received, copyable) and jumps to the events it is paired with.

use std::sync::Arc;

use egui::RichText;
use flightrec::export::flow::pretty_json;
use serde_json::Value;

use super::{json, offset_text};
use crate::app::{Command, ViewerContext};
use crate::theme;

/// The inspector's own state.
#[derive(Default)]
pub struct InspectorPanel {
    /// Text mode (the JSON as indented text) rather than the tree.
    pretty: bool,
}

impl InspectorPanel {
    pub(crate) fn show(&mut self, app: &ViewerContext<'_>, ui: &mut egui::Ui) {
        let Some(d) = app.data else {
            ui.weak("No session open.");
            return;
        };
        let Some(pos) = app.cursor else {
            ui.weak("No event selected.");
            return;
        };
        let Some(ev) = d.index.events.get(pos).copied() else {
            return;
        };
        let linked = d.index.linked(pos).and_then(|p| {
            let e = d.index.events.get(p)?;
            Some((p, d.index.type_name(e).to_string(), p < pos))
        });
        let origin = d.start;
        let Some(detail) = app.rows.get(ev.seq).cloned() else {
            ui.weak("Loading the event…");
            app.send(Command::WantRows(vec![ev.seq]));
            return;
        };
        let row = &detail.row;
        let color = if ev.is(crate::model::index::ERROR) {
            theme::ERROR
        } else {
            theme::event_type(&row.event_type)
        };
        ui.label(RichText::new(&row.event_type).strong().color(color));
        egui::Grid::new("envelope").num_columns(2).show(ui, |ui| {
            let field = |ui: &mut egui::Ui, k: &str, v: String| {
                ui.weak(k);
                ui.add(egui::Label::new(RichText::new(v).monospace()).selectable(true));
                ui.end_row();
            };
            field(ui, "id", row.event_id.clone());
            let at = match (row.ts, &row.processed_at) {
                (Some(t), Some(p)) => format!("{p}  ({})", offset_text(t, origin)),
                _ => "(queued: processed_at null)".into(),
            };
            field(ui, "processed", at);
            if !row.thread_id.is_empty() {
                field(ui, "stream", row.thread_id.clone());
            }
            field(
                ui,
                "stored",
                format!("seq {} · {} · rev {}", row.seq, row.source, row.revision),
            );
        });
        // The parsed JSON of the inspected event, kept (one at a time) across frames.
        let cache = ui.make_persistent_id("inspected");
        let parsed: Arc<Value> = match ui.data(|m| m.get_temp::<(i64, Arc<Value>)>(cache)) {
            Some((seq, v)) if seq == ev.seq => v,
            _ => {
                let v = Arc::new(serde_json::from_str(&row.raw).unwrap_or(Value::Null));
                ui.data_mut(|m| m.insert_temp(cache, (ev.seq, v.clone())));
                v
            }
        };
        // One tree id for every event: what the user folded stays folded from event to event.
        let id = ui.make_persistent_id("inspector-tree");
        ui.horizontal_wrapped(|ui| {
            if ui.button("Copy JSON").clicked() {
                ui.ctx().copy_text(row.raw.clone());
            }
            let mode = if self.pretty { "Tree" } else { "Text" };
            if ui
                .button(mode)
                .on_hover_text("Tree or pretty text")
                .clicked()
            {
                self.pretty = !self.pretty;
            }
            if let Some((p, ty, earlier)) = linked {
                let arrow = if earlier { "Back to" } else { "Go to" };
                if ui
                    .button(format!("{arrow} {ty}"))
                    .on_hover_text("Jump to the paired event (L)")
                    .clicked()
                {
                    app.send(Command::SetCursor {
                        pos: p,
                        scroll: true,
                    });
                }
            }
            for target in blocked_on(&parsed) {
                let short = target.get(target.len().saturating_sub(8)..).unwrap_or("");
                if ui
                    .button(format!("Go to …{short} (waited on)"))
                    .on_hover_text(format!("Jump to {target}, which this idle waits on"))
                    .clicked()
                {
                    app.send(Command::JumpToIds(vec![target.clone()]));
                }
            }
        });
        ui.separator();
        if self.pretty {
            // The text as received: its keys in their order (a `Value` would sort them).
            let text = pretty_json(&row.raw).unwrap_or_else(|| row.raw.clone());
            ui.add(
                egui::TextEdit::multiline(&mut text.as_str())
                    .code_editor()
                    .desired_width(f32::INFINITY),
            );
        } else {
            json::root(ui, id, &parsed);
        }
    }
}

/// The ids a `requires_action` idle names.
fn blocked_on(v: &Value) -> Vec<String> {
    v.get("stop_reason")
        .and_then(|s| s.get("event_ids"))
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
