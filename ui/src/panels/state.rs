//! The state at the cursor: statuses, open spans, pending actions, cumulative usage.

use egui::RichText;
use flightrec::analysis::state::State;
use flightrec::analysis::text::thousands;
use flightrec::model::time::format_duration_micros;

use crate::app::ViewerContext;
use crate::theme;

pub(crate) fn show(app: &ViewerContext<'_>, ui: &mut egui::Ui) {
    match app.at_cursor {
        Some(a) => state(ui, &a.state),
        None if app.data.is_some() => {
            ui.weak("Reading the state…");
        }
        None => {
            ui.weak("No session open.");
        }
    }
}

fn ms(v: Option<f64>) -> String {
    v.map(|ms| format_duration_micros((ms * 1000.0) as i64))
        .unwrap_or_else(|| "?".into())
}

fn state(ui: &mut egui::Ui, s: &State) {
    egui::Grid::new("state-grid").num_columns(2).show(ui, |ui| {
        ui.weak("status");
        let status = s.session_status.as_ref().map_or("?", |m| m.status.as_str());
        let reason = s
            .newest_idle
            .as_ref()
            .filter(|_| status == "idle")
            .and_then(|i| i.stop_reason.clone())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        ui.label(RichText::new(format!("{status}{reason}")).color(theme::badge(status)));
        ui.end_row();
        for t in &s.threads {
            ui.weak("thread");
            let name = t.agent_name.clone().unwrap_or_else(|| t.thread_id.clone());
            ui.label(format!("{name}: {}", t.status));
            ui.end_row();
        }
    });
    let pending: Vec<_> = s.blocking.iter().filter(|b| !b.resolved).collect();
    ui.label(RichText::new(format!("Pending actions ({})", pending.len())).strong());
    for b in pending {
        let name = b.name.clone().unwrap_or_else(|| b.event_id.clone());
        ui.label(
            RichText::new(format!("{name} — needs {}", b.needs))
                .small()
                .color(theme::OPEN_MARK),
        );
    }
    ui.label(RichText::new(format!("Open spans ({})", s.open_spans.len())).strong());
    for sp in s.open_spans.iter().take(50) {
        ui.label(
            RichText::new(format!("{} {} — open {}", sp.kind, sp.name, ms(sp.age_ms))).small(),
        );
    }
    if s.open_spans.len() > 50 {
        ui.weak(format!("… and {} more", s.open_spans.len() - 50));
    }
    if let Some(l) = &s.ledger {
        let m = &l.model_requests;
        ui.label(RichText::new("Usage so far").strong());
        ui.label(
            RichText::new(format!(
                "{} model requests ({} failed) · in {} · out {} · cache read {} · cache write {}",
                m.requests,
                m.failed_requests,
                thousands(m.input_tokens),
                thousands(m.output_tokens),
                thousands(m.cache_read_input_tokens),
                thousands(m.cache_creation_input_tokens),
            ))
            .small(),
        );
        if let Some(u) = &l.session_usage {
            let cost = u
                .usage
                .list_cost
                .as_ref()
                .map(|c| c.display())
                .unwrap_or_else(|| "–".into());
            ui.label(RichText::new(format!("session.usage list cost {cost}")).small());
        }
        if !l.errors.is_empty() {
            ui.colored_label(theme::ERROR, format!("{} errors so far", l.errors.len()));
        }
    }
}
