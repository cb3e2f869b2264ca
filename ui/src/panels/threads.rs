//! The session's thread tree at the cursor (thread events merged with the stored thread objects,
//! as `flightrec state` shows it) and what the stored session object says. Clicking a thread
//! filters the table to its stream; clicking it again shows every thread.

use egui::RichText;
use flightrec::analysis::session_facts::{SessionFacts, stats_text, usage_text};
use flightrec::analysis::threads::{ThreadNode, ThreadTree};

use crate::app::{Command, ViewerContext};
use crate::theme;

pub(crate) fn show(app: &ViewerContext<'_>, ui: &mut egui::Ui) {
    let Some(d) = app.data else {
        ui.weak("No session open.");
        return;
    };
    let Some(extras) = app.extras() else {
        ui.weak("Reading the threads…");
        return;
    };
    let mut pick: Option<Option<u16>> = None;
    if extras.threads.is_empty() {
        ui.weak("No threads in this recording.");
    } else {
        tree(
            ui,
            &extras.threads,
            app.filter.thread,
            &d.index.threads,
            &mut pick,
        );
    }
    if let Some(f) = &extras.facts {
        ui.add_space(6.0);
        facts(ui, f);
    }
    if let Some(t) = pick {
        app.send(Command::SetThreadFilter(t));
    }
}

/// The index of a node's stream in the table's thread list: the primary's own events are on the
/// session stream (0).
fn stream_of(n: &ThreadNode, threads: &[String]) -> Option<u16> {
    if n.primary {
        return Some(0);
    }
    let id = n.thread_id.as_deref()?;
    threads
        .iter()
        .position(|t| t == id)
        .and_then(|i| u16::try_from(i).ok())
}

fn tree(
    ui: &mut egui::Ui,
    t: &ThreadTree,
    selected: Option<u16>,
    threads: &[String],
    pick: &mut Option<Option<u16>>,
) {
    for (depth, n) in t.walk() {
        let stream = stream_of(n, threads);
        ui.horizontal(|ui| {
            ui.add_space(14.0 * depth as f32);
            let status = n.status_text();
            let colour = theme::badge(n.status.as_deref().unwrap_or("?"));
            let text = RichText::new(format!("{} — {status}", n.label())).color(colour);
            let on = stream.is_some() && stream == selected;
            let r = ui.selectable_label(on, text);
            let id = n
                .thread_id
                .as_deref()
                .unwrap_or("(id not in the recording)");
            let from = n.learnt_from.join(" + ");
            let hover = match stream {
                Some(_) => format!("{id}\nlearnt from {from}\nclick: show only its events"),
                None => format!("{id}\nlearnt from {from}\nno events on its stream"),
            };
            let r = r.on_hover_text(hover);
            if r.clicked()
                && let Some(s) = stream
            {
                *pick = Some(if on { None } else { Some(s) });
            }
            if n.primary {
                ui.weak("primary");
            }
        });
        let mut more = Vec::new();
        if let Some(u) = n.usage.as_ref().map(usage_text).filter(|u| !u.is_empty()) {
            more.push(format!("usage: {u}"));
        }
        if let Some(s) = n.stats.as_ref().map(stats_text).filter(|s| !s.is_empty()) {
            more.push(format!("stats: {s}"));
        }
        if !more.is_empty() {
            // A wrapping label in a row keeps its continuation lines indented too.
            ui.horizontal(|ui| {
                ui.add_space(14.0 * depth as f32 + 18.0);
                ui.add(egui::Label::new(RichText::new(more.join("; ")).small().weak()).wrap());
            });
        }
    }
    for p in &t.problems {
        ui.colored_label(theme::ERROR, p);
    }
}

fn facts(ui: &mut egui::Ui, f: &SessionFacts) {
    ui.label(RichText::new("Session object").strong());
    egui::Grid::new("session-object")
        .num_columns(2)
        .show(ui, |ui| {
            let mut row = |k: &str, v: String| {
                ui.weak(k);
                ui.add(egui::Label::new(RichText::new(v).small()).wrap());
                ui.end_row();
            };
            if let Some(s) = f.stats.as_ref().map(stats_text).filter(|s| !s.is_empty()) {
                row("stats", s);
            }
            if let Some(d) = &f.deployment_id {
                row("deployment", d.clone());
            }
            if let Some(u) = f.usage.as_ref().map(usage_text).filter(|u| !u.is_empty()) {
                row("usage", u);
            }
            for e in f.outcome_evaluations.iter().flatten() {
                let mut v = e.result.clone().unwrap_or_else(|| "(no result)".into());
                if let Some(i) = e.iteration {
                    v.push_str(&format!(" at iteration {i}"));
                }
                if let Some(x) = &e.explanation {
                    v.push_str(&format!(": {x}"));
                }
                row("outcome", v);
            }
            if let Some(t) = &f.fetched_at {
                row("fetched", t.clone());
            }
        });
    for p in &f.problems {
        ui.colored_label(theme::ERROR, p);
    }
}
