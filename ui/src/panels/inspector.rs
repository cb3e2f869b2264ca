//! The event at the cursor: its envelope, its JSON (a collapsible tree or pretty text, copyable)
//! and jumps to the events it is paired with.

use std::sync::Arc;

use egui::RichText;
use serde_json::Value;

use super::{json, offset_text};
use crate::app::ViewerApp;
use crate::theme;

pub fn show(app: &mut ViewerApp, ui: &mut egui::Ui) {
    let Some(d) = &app.data else {
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
        app.want_rows([ev.seq]);
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
        let mode = if app.inspector_pretty { "Tree" } else { "Text" };
        if ui
            .button(mode)
            .on_hover_text("Tree or pretty text")
            .clicked()
        {
            app.inspector_pretty = !app.inspector_pretty;
        }
        if let Some((p, ty, earlier)) = linked {
            let arrow = if earlier { "Back to" } else { "Go to" };
            if ui
                .button(format!("{arrow} {ty}"))
                .on_hover_text("Jump to the paired event (L)")
                .clicked()
            {
                app.set_cursor(p);
            }
        }
        for target in blocked_on(&parsed) {
            let short = target.get(target.len().saturating_sub(8)..).unwrap_or("");
            if ui
                .button(format!("Go to …{short} (waited on)"))
                .on_hover_text(format!("Jump to {target}, which this idle waits on"))
                .clicked()
            {
                app.jump_to_ids(vec![target.clone()]);
            }
        }
    });
    ui.separator();
    if app.inspector_pretty {
        let text = serde_json::to_string_pretty(&*parsed).unwrap_or_else(|_| row.raw.clone());
        ui.add(
            egui::TextEdit::multiline(&mut text.as_str())
                .code_editor()
                .desired_width(f32::INFINITY),
        );
    } else {
        json::root(ui, id, &parsed);
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
