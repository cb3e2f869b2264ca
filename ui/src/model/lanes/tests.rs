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
fn band_columns_show_the_weightiest_state() {
    let mut lane = BandLane::default();
    lane.push(0, Status::Running, 0, 0);
    lane.push(15, Status::Rescheduling, 0, 1);
    lane.push(16, Status::Running, 0, 2);
    lane.push(40, Status::Idle, 0, 3);
    let cols = lane.columns(-10, 10.0, 7, 45);
    let states: Vec<Option<Status>> = cols.iter().map(|c| c.map(|x| x.0)).collect();
    use Status::*;
    assert_eq!(
        states,
        [
            None,
            Some(Running),
            Some(Rescheduling),
            Some(Running),
            Some(Running),
            Some(Idle),
            None
        ]
    );
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
