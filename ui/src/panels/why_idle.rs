//! "Why idle?": the explain verdict with its evidence, for the session (the end of the
//! recording) and at the cursor.

use egui::RichText;
use flightrec::analysis::explain::Explanation;
use flightrec::model::time::format_duration_micros;

use crate::app::{Command, ViewerContext};
use crate::theme;

pub(crate) fn show(app: &ViewerContext<'_>, ui: &mut egui::Ui) {
    if app.data.is_none() {
        ui.weak("No session open.");
        return;
    }
    let mut jump = None;
    ui.label(RichText::new("Session (end of the recording)").strong());
    match app.at_end {
        Some(a) => explanation(ui, &a.explanation, "end", &mut jump),
        None => {
            ui.weak("Explaining…");
        }
    }
    ui.add_space(6.0);
    ui.label(RichText::new("At the cursor").strong());
    match app.at_cursor {
        Some(a) => explanation(ui, &a.explanation, "cursor", &mut jump),
        None => {
            ui.weak("Explaining…");
        }
    }
    if let Some(id) = jump {
        app.send(Command::JumpToIds(vec![id]));
    }
}

/// A link to an event by id: clicking moves the cursor there.
fn event_link(ui: &mut egui::Ui, id: &str, jump: &mut Option<String>) {
    let short = id.get(id.len().saturating_sub(10)..).unwrap_or(id);
    if ui
        .link(RichText::new(format!("…{short}")).monospace())
        .on_hover_text(format!("Go to {id}"))
        .clicked()
    {
        *jump = Some(id.to_string());
    }
}

fn explanation(ui: &mut egui::Ui, x: &Explanation, salt: &str, jump: &mut Option<String>) {
    ui.horizontal_wrapped(|ui| {
        let color = if x.attention {
            theme::ATTENTION
        } else {
            theme::OK
        };
        ui.label(
            RichText::new(format!(" {} ", x.verdict))
                .strong()
                .color(theme::ON_COLOUR)
                .background_color(color),
        );
        if x.attention {
            ui.colored_label(theme::ATTENTION, "needs attention");
        }
    });
    ui.add(egui::Label::new(&x.summary).wrap());
    let pending: Vec<_> = x.blocking.iter().filter(|b| !b.resolved).collect();
    if !pending.is_empty() {
        ui.label(RichText::new("Waiting on").color(theme::TEXT_DIM));
        for b in pending {
            ui.horizontal_wrapped(|ui| {
                let name = b.name.clone().unwrap_or_else(|| "?".into());
                let ty = b.event_type.clone().unwrap_or_default();
                ui.label(RichText::new(name).strong().color(theme::OPEN_MARK));
                ui.weak(ty);
                event_link(ui, &b.event_id, jump);
                if let Some(ms) = b.waited_ms {
                    ui.weak(format!("for {}", format_duration_micros(ms * 1000)));
                }
            });
            ui.add(egui::Label::new(RichText::new(format!("needs: {}", b.needs)).small()).wrap());
            if let Some(input) = &b.input_excerpt {
                ui.add(egui::Label::new(RichText::new(input).monospace().small()).wrap());
            }
        }
    }
    for e in &x.errors {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(theme::ERROR, &e.error.error_type);
            event_link(ui, &e.error.mark.event_id, jump);
        });
        ui.add(egui::Label::new(RichText::new(&e.advice).small()).wrap());
    }
    if !x.evidence.is_empty() {
        egui::CollapsingHeader::new(format!("Evidence ({})", x.evidence.len()))
            .id_salt(("evidence", salt))
            .default_open(salt == "end")
            .show(ui, |ui| {
                for ev in &x.evidence {
                    ui.horizontal_wrapped(|ui| {
                        event_link(ui, &ev.event_id, jump);
                        ui.weak(&ev.event_type);
                    });
                    ui.add(egui::Label::new(RichText::new(&ev.note).small()).wrap());
                }
            });
    }
    if !x.advice.is_empty() {
        egui::CollapsingHeader::new("What to do")
            .id_salt(("advice", salt))
            .default_open(salt == "end")
            .show(ui, |ui| {
                for a in &x.advice {
                    ui.add(egui::Label::new(RichText::new(format!("• {a}")).small()).wrap());
                }
                for r in &x.requests {
                    let text = format!("{}: {}", r.action, r.body.json());
                    ui.add(egui::Label::new(RichText::new(text).monospace().small()).wrap());
                }
            });
    }
}
