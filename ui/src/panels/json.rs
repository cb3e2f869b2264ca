//! A collapsible JSON tree: objects and arrays fold, leaves show their value.

use egui::RichText;
use serde_json::Value;

use crate::theme::{
    JSON_KEY as KEY, JSON_NUMBER as NUMBER, JSON_OTHER as OTHER, JSON_STRING as STRING,
};

/// Long strings are cut in the tree (the raw text has them whole).
const MAX_LEAF: usize = 600;

fn leaf(v: &Value) -> RichText {
    match v {
        Value::String(s) => {
            let mut t = serde_json::to_string(s).unwrap_or_default();
            if t.len() > MAX_LEAF {
                let cut = (0..=MAX_LEAF)
                    .rev()
                    .find(|&i| t.is_char_boundary(i))
                    .unwrap_or(0);
                t.truncate(cut);
                t.push('…');
            }
            RichText::new(t).color(STRING)
        }
        Value::Number(n) => RichText::new(n.to_string()).color(NUMBER),
        other => RichText::new(other.to_string()).color(OTHER),
    }
    .monospace()
}

fn summary(v: &Value) -> String {
    match v {
        Value::Object(m) => format!("{{…}} {} keys", m.len()),
        Value::Array(a) => format!("[…] {} items", a.len()),
        _ => String::new(),
    }
}

/// Draws `value` under `key`, with a collapsing header for containers; the first `open_depth`
/// levels start open.
pub fn tree(ui: &mut egui::Ui, id: egui::Id, key: &str, value: &Value, depth: usize) {
    match value {
        Value::Object(_) | Value::Array(_) => {
            let header = RichText::new(format!("{key}: {}", summary(value)))
                .monospace()
                .color(KEY);
            egui::CollapsingHeader::new(header)
                .id_salt(id.with(key))
                .default_open(depth < 2)
                .show(ui, |ui| children(ui, id.with(key), value, depth + 1));
        }
        _ => {
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing.x = 4.0;
                ui.label(RichText::new(format!("{key}:")).monospace().color(KEY));
                ui.add(egui::Label::new(leaf(value)).wrap());
            });
        }
    }
}

fn children(ui: &mut egui::Ui, id: egui::Id, value: &Value, depth: usize) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                tree(ui, id, k, v, depth);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                tree(ui, id, &i.to_string(), v, depth);
            }
        }
        _ => {}
    }
}

/// The top-level object's fields, each as a tree.
pub fn root(ui: &mut egui::Ui, id: egui::Id, value: &Value) {
    match value {
        Value::Object(_) | Value::Array(_) => children(ui, id, value, 0),
        other => {
            ui.label(leaf(other));
        }
    }
}
