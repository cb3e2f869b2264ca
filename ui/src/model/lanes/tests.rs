//! Lane aggregation: counts, errors and coverage per column, sub-rows, long bars.

use super::*;

fn bar(start: i64, end: i64, flags: u8) -> Bar {
    Bar {
        start,
        end,
        name: 0,
        kind: SpanKind::Tool,
        flags,
        row: 0,
        pos: NO_POS,
        tokens: [0; 3],
    }
}

#[test]
fn bar_columns_count_errors_and_coverage() {
    let lane = BarLane::new(
        "tools",
        vec![
            bar(0, 5, 0),
            bar(12, 13, BAR_ERROR),
            bar(14, 15, 0),
            bar(30, 100, BAR_OPEN),
        ],
        100,
    );
    let cols = lane.columns(0, 10.0, 5);
    assert_eq!(cols[0].count, 1);
    assert_eq!((cols[1].count, cols[1].errors), (2, 1));
    assert!(!cols[2].covered);
    assert!(cols[3].covered);
    assert!(cols[4].covered, "the open bar runs on");
    assert_eq!(cols[4].count, 0);
    assert_eq!(cols[4].sample, Some(3));
    assert_eq!(lane.count_starting(10, 20), 2);
}

#[test]
fn overlapping_bars_get_rows_and_long_bars_are_found() {
    let lane = BarLane::new(
        "tools",
        vec![
            bar(0, 1000, 0),
            bar(10, 20, 0),
            bar(15, 25, 0),
            bar(990, 995, 0),
        ],
        1000,
    );
    assert_eq!(lane.rows, 3);
    let rows: Vec<u8> = lane.bars.iter().map(|b| b.row).collect();
    assert_eq!(rows, [0, 1, 2, 1]);
    // Zoomed far in near the end: the bar from 0 still shows.
    assert_eq!(lane.overlapping(980, 1000), vec![0, 3]);
    assert_eq!(lane.hit(&[0, 3], 992, 0, 1), Some(3));
    assert_eq!(lane.hit(&[0, 3], 992, 0, 0), Some(0));
}

#[test]
fn a_brief_reschedule_painted_the_whole_band_column_rescheduling() {
    // A column showed its "weightiest" state: a reschedule of a second painted an hour-wide
    // column orange, so a long session's band was streaked orange. Each state now takes its
    // share of the column's time.
    let mut lane = BandLane::default();
    lane.push(0, Status::Running, 0, 0);
    lane.push(15, Status::Rescheduling, 0, 1);
    lane.push(16, Status::Running, 0, 2);
    lane.push(40, Status::Idle, 0, 3);
    let cols = lane.shares(-10, 10.0, 7, 45);
    let (run, resched, idle) = (
        Status::Running as usize,
        Status::Rescheduling as usize,
        Status::Idle as usize,
    );
    assert_eq!(cols[0], [0.0; STATES], "before the first band");
    assert_eq!(cols[1][run], 1.0);
    assert_eq!((cols[2][run], cols[2][resched]), (0.9, 0.1));
    assert_eq!(cols[4][run], 1.0);
    assert_eq!(cols[5][idle], 0.5, "up to the end of the recording");
    assert_eq!(cols[6], [0.0; STATES], "after it");
    // Zoomed out over a long session: many bands a column, the shares still add up.
    let mut long = BandLane::default();
    for i in 0..10_000 {
        long.push(i * 100, Status::Running, 0, 0);
        long.push(i * 100 + 30, Status::Idle, 0, 0);
        if i % 150 == 0 {
            long.push(i * 100 + 99, Status::Rescheduling, 0, 0);
        }
    }
    let cols = long.shares(0, 1_000.0, 1_000, 1_000_000);
    for c in &cols {
        assert!((c.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!((c[run] - 0.3).abs() < 0.011, "{c:?}");
        assert!(c[resched] <= 0.001);
    }
}

#[test]
fn marker_columns_count() {
    let mut lane = MarkerLane::default();
    for (t, k) in [
        (1, MarkerKind::User),
        (2, MarkerKind::Agent),
        (25, MarkerKind::Error),
    ] {
        lane.push(t, k, 0);
    }
    let cols = lane.columns(0, 10.0, 3);
    assert_eq!(
        cols,
        [
            (2, Some(MarkerKind::Agent)),
            (0, None),
            (1, Some(MarkerKind::Error))
        ]
    );
    assert_eq!(lane.range(2, 30), 1..3);
}

#[test]
fn columns_partition_the_bars_of_a_large_lane() {
    // 200,000 bars over 1,000 columns: every bar that starts in view is counted once.
    let bars: Vec<Bar> = (0..200_000)
        .map(|i| bar(i * 5, i * 5 + 3, if i % 1000 == 0 { BAR_ERROR } else { 0 }))
        .collect();
    let lane = BarLane::new("tools", bars, 1_000_000);
    let (t0, w, n) = (123_456, 250.0, 1000);
    let cols = lane.columns(t0, w, n);
    assert_eq!(cols.len(), n);
    let counted: u32 = cols.iter().map(|c| c.count).sum();
    let t1 = t0 + (w * n as f64) as i64;
    assert_eq!(counted as usize, lane.count_starting(t0, t1));
    let errors: u32 = cols.iter().map(|c| c.errors).sum();
    assert_eq!(errors, 50, "one bar in a thousand failed");
    assert!(cols.iter().all(|c| c.covered));
}

/// A tool span as the core pairs it.
fn tool_span(id: u64, start: i64, end: i64, is_error: bool) -> flightrec::analysis::Span {
    flightrec::analysis::Span {
        kind: SpanKind::Tool,
        name: ["bash", "read", "edit", "grep"][(id % 4) as usize].into(),
        thread_id: None,
        start_id: format!("sevt_{id}"),
        start_type: "agent.tool_use",
        end_id: Some(format!("sevt_{id}r")),
        end_type: Some("agent.tool_result"),
        started_at: None,
        ended_at: None,
        start_ts: Some(start),
        end_ts: Some(end),
        duration_ms: Some((end - start) as f64 / 1000.0),
        open: false,
        partial: false,
        age_ms: None,
        is_error,
        usage: None,
        detail: None,
    }
}

/// A long session's tools lane: 150,000 calls of 0.2–20 s with gaps of up to a minute, about
/// one in 25 failed (pseudo-random), as on real traffic.
fn long_session_tools() -> (Lanes, i64, i64, usize) {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let start = 1_786_093_200_000_000_i64;
    let mut t = start;
    let mut spans = Vec::new();
    let mut failed = 0;
    for id in 0..150_000u64 {
        t += 1_000 + next(60_000_000) as i64;
        let end = t + 200_000 + next(19_800_000) as i64;
        let is_error = next(1000) < 40;
        failed += usize::from(is_error);
        spans.push(tool_span(id, t, end, is_error));
        t = end;
    }
    let end = t;
    let lanes = crate::model::lanes_build::LaneBuilder::new().finish(spans, |_| None, start, end);
    (lanes, start, end, failed)
}

#[test]
fn full_zoom_out_paints_tool_columns_solid_red_when_4_percent_of_calls_failed() {
    // Issue 11 (12): at full zoom-out a column holding any failed call was painted all error,
    // so a lane where 4 % of calls failed was solid red. Each column shows its failed share.
    let (lanes, start, end, failed) = long_session_tools();
    assert!(
        (5_000..7_000).contains(&failed),
        "about 4 % failed: {failed}"
    );
    let view = crate::model::timeline::TimeView::fit(start, end);
    let n = 1_300;
    let cols = lanes.tools.columns(view.left_time(), view.per_column(n), n);
    // As drawn: heights scaled to the busiest columns, the failed share within each kept.
    let shown: Vec<Fill> = fills(&cols)
        .into_iter()
        .filter(|f| f.total() > 0.0)
        .collect();
    assert!(
        shown.len() > 1_200,
        "the session spans the width: {}",
        shown.len()
    );
    let mean = shown.iter().map(|f| f.error_share()).sum::<f32>() / shown.len() as f32;
    assert!(
        (0.03..0.05).contains(&mean),
        "the mean failed share of a column is about 4 %, not {:.0} %",
        mean * 100.0
    );
    let worst = shown.iter().map(|f| f.error_share()).fold(0.0, f32::max);
    assert!(worst < 0.5, "no column is mostly red: {worst}");
    // And the calls cover part of each column's time, which the tooltip tells.
    let busy = cols.iter().map(|c| c.fill().total()).sum::<f32>() / n as f32;
    assert!(
        (0.1..0.4).contains(&busy),
        "calls fill about a fifth of the time: {busy}"
    );
}

#[test]
fn fills_split_time_into_failed_working_and_waiting() {
    let mut waiting = bar(20, 30, BAR_WAITING);
    waiting.kind = SpanKind::CustomTool;
    let lane = BarLane::new(
        "tools",
        vec![
            bar(0, 4, 0),
            bar(2, 6, BAR_ERROR),
            waiting,
            bar(40, 60, 0),
            bar(41, 59, 0),
        ],
        100,
    );
    let cols = lane.columns(0, 10.0, 6);
    assert_eq!(
        (cols[0].busy_us, cols[0].error_us, cols[0].wait_us),
        (8, 4, 0)
    );
    let f = cols[0].fill();
    assert_eq!((f.error, f.busy, f.waiting), (0.4, 0.4, 0.0));
    assert_eq!(cols[2].fill().waiting, 1.0);
    assert_eq!(cols[1].fill().total(), 0.0);
    // Two bars overlapping all of a column fill it once.
    assert_eq!(cols[5].busy_us, 19);
    assert_eq!(cols[5].fill().busy, 1.0);
    // Scaled for the busiest columns: a full column stays full, the shares stay.
    let drawn = fills(&cols);
    assert_eq!(drawn[5].total(), 1.0);
    assert!((drawn[0].error_share() - 0.5).abs() < 1e-6);
}

#[test]
fn marker_densities_scale_to_the_busiest_columns() {
    // One error in a column is not drawn like fifty.
    let mut cols: Vec<(u32, Option<MarkerKind>)> = (0..100)
        .map(|i| (i % 10, Some(MarkerKind::Error)))
        .collect();
    cols[50].0 = 50;
    let d = densities(&cols);
    assert_eq!(d[50], 1.0);
    assert_eq!(d[9], 1.0, "the 95th percentile fills the lane");
    assert!((d[1] - 1.0 / 9.0).abs() < 1e-6);
    assert_eq!(d[0], 0.0);
    assert!(densities(&[(0, None); 4]).iter().all(|&x| x == 0.0));
}
