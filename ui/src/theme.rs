//! Every colour the viewer uses, in one place (dark theme).

use egui::Color32;

use crate::model::lanes::{MarkerKind, Status};
use flightrec::analysis::SpanKind;

pub const BACKGROUND: Color32 = Color32::from_rgb(24, 26, 31);
pub const LANE_BACKGROUND: Color32 = Color32::from_rgb(32, 35, 42);
pub const LANE_LABEL: Color32 = Color32::from_rgb(150, 156, 168);
pub const GRID: Color32 = Color32::from_rgb(48, 52, 62);
pub const TICK_TEXT: Color32 = Color32::from_rgb(130, 136, 148);
pub const CURSOR: Color32 = Color32::from_rgb(255, 214, 10);
pub const HOVER_LINE: Color32 = Color32::from_rgb(120, 126, 140);
pub const TEXT_DIM: Color32 = Color32::from_rgb(140, 146, 158);
pub const SELECTED_ROW: Color32 = Color32::from_rgb(58, 66, 86);
pub const ERROR: Color32 = Color32::from_rgb(235, 87, 87);
/// Time waiting on someone else (permissions, custom tools) in an aggregated lane.
pub const WAITING: Color32 = Color32::from_rgb(234, 179, 8);
pub const OPEN_MARK: Color32 = Color32::from_rgb(255, 170, 60);
pub const OK: Color32 = Color32::from_rgb(90, 200, 120);
pub const ATTENTION: Color32 = Color32::from_rgb(255, 170, 60);
/// Text drawn on a coloured bar or badge.
pub const ON_COLOUR: Color32 = Color32::from_rgb(16, 18, 22);
pub const ON_BADGE: Color32 = Color32::WHITE;
pub const JSON_KEY: Color32 = Color32::from_rgb(147, 197, 253);
pub const JSON_STRING: Color32 = Color32::from_rgb(190, 227, 160);
pub const JSON_NUMBER: Color32 = Color32::from_rgb(253, 186, 116);
pub const JSON_OTHER: Color32 = Color32::from_rgb(216, 180, 254);

pub fn status(s: Status) -> Color32 {
    match s {
        Status::Created => Color32::from_rgb(80, 90, 110),
        Status::Running => Color32::from_rgb(56, 161, 105),
        Status::Idle => Color32::from_rgb(98, 108, 128),
        Status::Rescheduling => Color32::from_rgb(230, 150, 40),
        Status::Terminated => Color32::from_rgb(200, 60, 60),
    }
}

/// Colour of a status or stop-reason badge in the sessions list.
pub fn badge(text: &str) -> Color32 {
    match text {
        "running" => status(Status::Running),
        "idle" | "end_turn" => status(Status::Idle),
        "rescheduling" => status(Status::Rescheduling),
        "terminated" | "deleted" => status(Status::Terminated),
        "requires_action" => Color32::from_rgb(214, 120, 30),
        "retries_exhausted" | "refusal" => Color32::from_rgb(190, 70, 90),
        "budget_reached" => Color32::from_rgb(150, 100, 200),
        _ => Color32::from_rgb(90, 96, 110),
    }
}

pub fn marker(k: MarkerKind) -> Color32 {
    match k {
        MarkerKind::User => Color32::from_rgb(96, 165, 250),
        MarkerKind::Agent => Color32::from_rgb(167, 139, 250),
        MarkerKind::ThreadMessage => Color32::from_rgb(45, 212, 191),
        MarkerKind::Error => ERROR,
    }
}

/// Bars by kind; tools also by name (a stable hue per tool).
pub fn bar(kind: SpanKind, name: &str) -> Color32 {
    match kind {
        SpanKind::ModelRequest => Color32::from_rgb(129, 140, 248),
        SpanKind::Permission => WAITING,
        SpanKind::OutcomeEvaluation => Color32::from_rgb(244, 114, 182),
        SpanKind::WorkflowRun | SpanKind::WorkflowPhase => Color32::from_rgb(45, 212, 191),
        SpanKind::Tool | SpanKind::McpTool | SpanKind::CustomTool | SpanKind::Thread => tool(name),
    }
}

/// The working share of an aggregated bar lane: one colour per lane, as a column mixes names.
pub fn bar_aggregate(kind: SpanKind) -> Color32 {
    match kind {
        SpanKind::Tool | SpanKind::McpTool | SpanKind::CustomTool | SpanKind::Thread => {
            Color32::from_rgb(148, 163, 184)
        }
        k => bar(k, ""),
    }
}

/// A muted palette for tool names, chosen by a hash of the name.
const TOOL_PALETTE: [Color32; 8] = [
    Color32::from_rgb(56, 189, 248),
    Color32::from_rgb(74, 222, 128),
    Color32::from_rgb(251, 146, 60),
    Color32::from_rgb(192, 132, 252),
    Color32::from_rgb(250, 204, 21),
    Color32::from_rgb(45, 212, 191),
    Color32::from_rgb(248, 113, 113),
    Color32::from_rgb(163, 230, 53),
];

pub fn tool(name: &str) -> Color32 {
    let h = name.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    // Red is for errors: skip the palette's red.
    let i = (h % 7) as usize;
    TOOL_PALETTE[if i >= 6 { 7 } else { i }]
}

/// Colour of an event type in the table.
pub fn event_type(t: &str) -> Color32 {
    if t.contains("error") {
        ERROR
    } else if t.starts_with("user.") || t == "system.message" {
        marker(MarkerKind::User)
    } else if t.starts_with("agent.") {
        marker(MarkerKind::Agent)
    } else if t.starts_with("span.") {
        bar(SpanKind::ModelRequest, "")
    } else if t.starts_with("session.") {
        status(Status::Running).gamma_multiply(1.3)
    } else {
        TEXT_DIM
    }
}

/// egui's fonts, with the monospace face as a fallback for proportional text: it has the
/// arrows and box symbols that summaries and explanations use.
pub fn fonts() -> egui::FontDefinitions {
    let mut f = egui::FontDefinitions::default();
    let mono = f
        .families
        .get(&egui::FontFamily::Monospace)
        .and_then(|v| v.first())
        .cloned();
    if let Some(mono) = mono {
        f.families
            .entry(egui::FontFamily::Proportional)
            .or_default()
            .push(mono);
    }
    f
}

/// The visuals: egui's dark theme on our background.
pub fn visuals() -> egui::Visuals {
    let mut v = egui::Visuals::dark();
    v.panel_fill = BACKGROUND;
    v.window_fill = Color32::from_rgb(30, 33, 40);
    v.extreme_bg_color = Color32::from_rgb(18, 20, 24);
    v.selection.bg_fill = SELECTED_ROW;
    v
}
