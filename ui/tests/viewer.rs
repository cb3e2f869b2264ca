//! The viewer driven headlessly through egui_kittest (no display, no GPU), on real SQLite files
//! made from the sample logs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use flightrec::record::import::{import_file, import_reader};
use flightrec::store::Store;
use flightrec_ui::{Options, ViewerApp};

const STUCK: &str = "sesn_011CZstuckCustomTool0002";
const HAPPY: &str = "sesn_011CZhappyPath0000000001";

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-logs")
}

/// A database holding the named sample files.
fn database(files: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("viewer.db");
    let mut store = Store::open(&db).expect("open");
    for f in files {
        import_file(
            &mut store,
            &samples().join(f),
            &Default::default(),
            &mut |_, _| {},
        )
        .expect("import");
    }
    (dir, db)
}

fn harness(db: &Path, session: Option<&str>) -> Harness<'static, ViewerApp> {
    let app = ViewerApp::new(
        Options {
            db: db.to_path_buf(),
            session: session.map(str::to_string),
            follow: true,
        },
        Arc::new(|| {}),
    );
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(|ui, app: &mut ViewerApp| app.show(ui), app)
}

/// The table rows whose text contains `text`.
fn rows_with<'a>(
    h: &'a Harness<'_, ViewerApp>,
    text: &'a str,
) -> impl Iterator<Item = egui_kittest::Node<'a>> + 'a {
    h.query_all_by(move |n| {
        n.role() == Role::ListItem && n.label().is_some_and(|l| l.contains(text))
    })
}

/// Steps until the loader owes nothing (a few quiet frames in a row).
fn settle(h: &mut Harness<'_, ViewerApp>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut quiet = 0;
    while quiet < 3 {
        h.step();
        quiet = if h.state().is_busy() { 0 } else { quiet + 1 };
        assert!(Instant::now() < deadline, "the viewer did not settle");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn open_by_click_select_an_event_and_see_its_json() {
    let (_dir, db) = database(&[
        "stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl",
        "happy-path.sesn_011CZhappyPath0000000001.jsonl",
    ]);
    let mut h = harness(&db, None);
    settle(&mut h);
    assert!(h.state().session().is_none());
    h.get_by_label(STUCK).click();
    settle(&mut h);
    let d = h.state().session().expect("opened");
    assert_eq!(d.index.len(), 20);
    // The second custom tool use (the one never answered), picked in the table.
    assert_eq!(rows_with(&h, "agent.custom_tool_use").count(), 2);
    rows_with(&h, "agent.custom_tool_use")
        .last()
        .expect("row")
        .click();
    settle(&mut h);
    let cursor = h.state().cursor().expect("cursor");
    let d = h.state().session().expect("session");
    assert_eq!(
        d.index.type_name(&d.index.events[cursor]),
        "agent.custom_tool_use"
    );
    // The inspector shows its envelope and its JSON fields.
    h.get_by_label("sevt_011CZkSdM9xUzC45mZmCzS1G");
    h.get_by_label("\"Voss\"");
    h.get_by_label("\"get_weather\"");
}

#[test]
fn why_idle_names_the_pending_custom_tool_of_the_stuck_sample() {
    let (_dir, db) = database(&["stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl"]);
    let mut h = harness(&db, Some(STUCK));
    settle(&mut h);
    let x = h.state().explanation_at_end().expect("explained");
    assert_eq!(x.verdict.as_str(), "requires_action");
    let pending: Vec<_> = x.blocking.iter().filter(|b| !b.resolved).collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event_id, "sevt_011CZkSdM9xUzC45mZmCzS1G");
    // And the panel says so: the tool's name and a link to the event.
    assert!(h.query_all_by_label("get_weather").count() >= 1);
    assert!(h.query_all_by_label("…45mZmCzS1G").count() >= 1);
    assert!(h.query_all_by_label_contains("needs: ").count() >= 1);
    assert!(
        h.query_all_by_label_contains("user.custom_tool_result")
            .count()
            >= 1
    );
}

#[test]
fn playback_advances_the_cursor() {
    let (_dir, db) = database(&["happy-path.sesn_011CZhappyPath0000000001.jsonl"]);
    let mut h = harness(&db, Some(HAPPY));
    settle(&mut h);
    let (start_pos, start_t) = (h.state().cursor(), h.state().cursor_time());
    assert_eq!(start_pos, Some(0));
    // At 1x with silences played in full, 30 frames (each at most 0.1 s) play at most 3 s
    // of the recording's 40.
    h.state_mut().playback_mut().speed = 1.0;
    h.get_by_label("Compress idle").click();
    h.get_by_label("Play").click();
    for _ in 0..30 {
        h.step();
    }
    for _ in 0..100 {
        if h.state().cursor() > start_pos {
            break;
        }
        h.step();
    }
    let moved = h.state().cursor_time() - start_t;
    assert!(moved > 0 && moved <= 13_100_000, "moved {moved} µs");
    assert!(h.state().cursor() > start_pos, "the cursor passed events");
    h.get_by_label("Pause").click();
    h.step();
    let paused = h.state().cursor_time();
    for _ in 0..10 {
        h.step();
    }
    assert_eq!(h.state().cursor_time(), paused);
}

#[test]
fn a_text_filter_changes_the_rows() {
    let (_dir, db) = database(&["happy-path.sesn_011CZhappyPath0000000001.jsonl"]);
    let mut h = harness(&db, Some(HAPPY));
    settle(&mut h);
    let all = h.state().shown_rows().len();
    assert_eq!(all, 29);
    assert!(rows_with(&h, "span.model_request_start").count() > 0);
    let filter = h.get_by_role_and_label(Role::TextInput, "Filter");
    filter.click();
    filter.type_text("tokens.py");
    settle(&mut h);
    let shown = h.state().shown_rows().len();
    assert!(shown > 0 && shown < all, "{shown} of {all}");
    assert_eq!(rows_with(&h, "span.model_request_start").count(), 0);
}

#[test]
fn live_follow_shows_an_event_appended_by_another_connection() {
    let (_dir, db) = database(&["happy-path.sesn_011CZhappyPath0000000001.jsonl"]);
    let mut h = harness(&db, Some(HAPPY));
    settle(&mut h);
    assert_eq!(h.state().session().expect("open").index.len(), 29);
    h.get_by_label("Last").click();
    h.step();
    assert_eq!(h.state().cursor(), Some(28));
    // Another connection (as `flightrec record` or `import` would) appends an event.
    let line = r#"{"type":"user.message","id":"sevt_011CZzzzLiveFollow0000001","processed_at":"2099-01-01T00:00:00.000Z","content":[{"type":"text","text":"appended while watching"}]}"#;
    let mut writer = Store::open(&db).expect("second connection");
    import_reader(
        &mut writer,
        "appended.jsonl",
        HAPPY,
        "",
        std::io::Cursor::new(format!("{line}\n")),
        0,
        &mut |_, _| {},
    )
    .expect("append");
    let appended = Instant::now();
    loop {
        h.step();
        if h.state().session().is_some_and(|d| d.index.len() == 30) {
            break;
        }
        assert!(appended.elapsed() < Duration::from_secs(5), "not shown");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        appended.elapsed() < Duration::from_secs(2),
        "{:?}",
        appended.elapsed()
    );
    settle(&mut h);
    // The viewer followed to the new event, and the table shows it.
    assert_eq!(h.state().cursor(), Some(29));
    assert_eq!(rows_with(&h, "appended while watching").count(), 1);
}

#[test]
fn shortcuts_step_through_errors_and_idles_zoom_and_show_the_help() {
    use egui::{Key, Modifiers};
    use flightrec_ui::model::index::{ERROR, IDLE};
    let (_dir, db) = database(&["retries-exhausted.sesn_011CZretriesExhausted006.sse"]);
    let mut h = harness(&db, Some("sesn_011CZretriesExhausted006"));
    settle(&mut h);
    let flagged = |h: &Harness<'_, ViewerApp>, flag: u8| {
        let app = h.state();
        let d = app.session().expect("open");
        d.index.events[app.cursor().expect("cursor")].is(flag)
    };
    h.key_press(Key::E);
    h.step();
    assert!(flagged(&h, ERROR));
    let first_error = h.state().cursor();
    h.key_press(Key::E);
    h.step();
    assert!(flagged(&h, ERROR));
    assert!(h.state().cursor() > first_error);
    h.key_press_modifiers(Modifiers::SHIFT, Key::E);
    h.step();
    assert_eq!(h.state().cursor(), first_error);
    h.key_press(Key::I);
    h.step();
    assert!(flagged(&h, IDLE));
    h.key_press(Key::End);
    h.step();
    let last = h.state().session().expect("open").index.len() - 1;
    assert_eq!(h.state().cursor(), Some(last));
    h.key_press(Key::ArrowLeft);
    h.step();
    assert_eq!(h.state().cursor(), Some(last - 1));

    let span = h.state().view().span;
    h.key_press(Key::Plus);
    h.step();
    assert!((h.state().view().span - span / 2.0).abs() < 1.0);
    h.key_press(Key::F);
    h.step();
    assert!((h.state().view().span - span).abs() < 1.0);

    assert!(h.query_by_label("Keyboard shortcuts").is_none());
    h.key_press(Key::F1);
    h.step();
    h.step();
    h.get_by_label("Keyboard shortcuts");
    h.get_by_label("next / previous error");
    h.key_press(Key::Escape);
    h.step();
    h.step();
    assert!(h.query_by_label("Keyboard shortcuts").is_none());
}

#[test]
fn jumps_between_a_use_its_result_and_the_idle_that_waits_on_it() {
    let (_dir, db) = database(&["stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl"]);
    let mut h = harness(&db, Some(STUCK));
    settle(&mut h);
    let type_at_cursor = |h: &Harness<'_, ViewerApp>| {
        let app = h.state();
        let d = app.session().expect("open");
        d.index
            .type_name(&d.index.events[app.cursor().expect("cursor")])
            .to_string()
    };
    rows_with(&h, "user.custom_tool_result")
        .next()
        .expect("row")
        .click();
    settle(&mut h);
    let result = h.state().cursor();
    h.get_by_label("Back to agent.custom_tool_use").click();
    settle(&mut h);
    assert_eq!(type_at_cursor(&h), "agent.custom_tool_use");
    let use_pos = h.state().cursor();
    assert!(use_pos < result);
    // L goes back along the same link.
    h.key_press(egui::Key::L);
    settle(&mut h);
    assert_eq!(h.state().cursor(), result);
    // From the final idle to the call it waits on (found by id through the loader).
    h.key_press(egui::Key::End);
    settle(&mut h);
    assert_eq!(type_at_cursor(&h), "session.status_idle");
    h.get_by_label_contains("(waited on)").click();
    settle(&mut h);
    assert_eq!(type_at_cursor(&h), "agent.custom_tool_use");
    assert!(h.state().cursor() > use_pos, "the second, unanswered call");
}

const FACTS: &str = "sesn_011CZsessionFacts0000001";

#[test]
fn the_thread_tree_shows_every_thread_and_a_click_filters_to_its_stream() {
    let (_dir, db) = database(&["real/session-facts.sesn_011CZsessionFacts0000001.json"]);
    let mut h = harness(&db, Some(FACTS));
    settle(&mut h);
    // Make room: the threads panel is below the inspector and the verdicts.
    h.get_by_label("Inspector").click();
    h.get_by_label("Why idle?").click();
    h.get_by_label("State at cursor").click();
    h.get_by_label("Last").click();
    settle(&mut h);
    let tree = &h.state().extras().expect("extras").threads;
    assert_eq!(tree.walk().len(), 4);
    for label in [
        "Lead analyst — idle (end_turn)",
        "Web researcher — terminated",
        "advisor — idle (object)",
        "Fact checker — idle (end_turn)",
    ] {
        h.get_by_label(label);
    }
    // Per-thread usage from the objects, and the session object's facts.
    assert!(
        h.query_all_by_label_contains("usage: input 30,210 · output 1,650 · active 37.7s")
            .count()
            >= 1
    );
    h.get_by_label("depl_011CZfactsDeploy000001");
    h.get_by_label("satisfied at iteration 1: All five claims cite a source.");
    assert!(
        h.query_all_by_label_contains("web_search_requests 3 · web_fetch_requests 1")
            .count()
            >= 1
    );
    // A click shows only the researcher's events: its own stream and the copies naming it.
    h.get_by_label("Web researcher — terminated").click();
    settle(&mut h);
    let d = h.state().session().expect("session");
    let shown = h.state().shown_rows().to_vec();
    assert_eq!(shown.len(), 7, "{shown:?}");
    for p in &shown {
        assert_eq!(
            d.index.thread_name(&d.index.events[*p as usize]),
            "sthr_011CZfactsResearch000001"
        );
    }
    // Again: every thread.
    h.get_by_label("Web researcher — terminated").click();
    settle(&mut h);
    assert_eq!(h.state().shown_rows().len(), 25);
}

#[test]
fn the_inspectors_text_mode_keeps_the_event_keys_in_the_order_received() {
    const SESSION: &str = "sesn_011CZkeyOrder00000000001";
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("viewer.db");
    // "z" before "a", and the envelope before both: sorting would put "a" first.
    let line = r#"{"type":"user.message","id":"sevt_011CZkeyOrder0000000001","processed_at":"2026-08-07T09:14:03.195Z","z":1,"a":{"y":2,"b":3},"content":[{"type":"text","text":"hello"}]}"#;
    let mut store = Store::open(&db).expect("open");
    import_reader(
        &mut store,
        "order.jsonl",
        SESSION,
        "",
        std::io::Cursor::new(format!("{line}\n")),
        0,
        &mut |_, _| {},
    )
    .expect("import");
    drop(store);
    let mut h = harness(&db, Some(SESSION));
    settle(&mut h);
    assert_eq!(h.state().cursor(), Some(0));
    h.get_by_label("Text").click();
    settle(&mut h);
    let text = h
        .get_by_role(Role::MultilineTextInput)
        .value()
        .expect("the text");
    let at = |key: &str| text.find(&format!("\"{key}\":")).expect(key);
    assert!(at("type") < at("id"), "{text}");
    assert!(at("processed_at") < at("z"), "{text}");
    assert!(at("z") < at("a"), "{text}");
    assert!(at("y") < at("b"), "{text}");
    assert!(at("a") < at("content"), "{text}");
    assert!(
        text.starts_with("{\n  \"type\": \"user.message\",\n"),
        "{text}"
    );
    // The button now offers the tree back.
    h.get_by_label("Tree");
}
