use super::*;

fn bars() -> Vec<Bar> {
    vec![
        Bar { label: "compute".into(), value: 1.5 },
        Bar { label: "exposed <tp> & \"dp\"".into(), value: 0.5 },
        Bar { label: "idle".into(), value: 0.0 },
    ]
}

#[test]
fn bar_chart_tiny() {
    let bars = bars();
    let c = BarChart { id: "breakdown", title: "Step time", unit: "s", decimals: 3, bars: &bars };
    insta::assert_snapshot!(bar_chart(&c).unwrap().as_str());
}

#[test]
fn stacked_bars_tiny() {
    let categories = vec!["stage 0".to_string(), "stage 1".to_string()];
    let series = vec![
        Series { name: "weights".into(), values: vec![10.0, 20.0] },
        Series { name: "activations".into(), values: vec![30.0, 5.5] },
    ];
    let reference = Some(ReferenceLine { label: "HBM capacity".into(), value: 80.0 });
    let c = StackedBars {
        id: "memory",
        title: "Memory per stage",
        unit: "GB",
        decimals: 1,
        categories: &categories,
        series: &series,
        reference,
    };
    insta::assert_snapshot!(stacked_bars(&c).unwrap().as_str());
}

#[test]
fn line_chart_tiny_log2() {
    let series = vec![
        LineSeries { name: "H100".into(), points: vec![(8.0, 50.0), (64.0, 45.0), (512.0, 40.0)] },
        LineSeries { name: "B200".into(), points: vec![(8.0, 42.0), (512.0, 30.0)] },
    ];
    let c = LineChart {
        id: "scaling",
        title: "MFU vs GPUs",
        x_label: "GPUs",
        y_label: "MFU %",
        log2_x: true,
        series: &series,
    };
    insta::assert_snapshot!(line_chart(&c).unwrap().as_str());
}

#[test]
fn gantt_tiny() {
    let span = |start, end, class: &str, title: &str| GanttSpan {
        start,
        end,
        class: class.into(),
        title: title.into(),
    };
    let rows = vec![
        GanttRow {
            label: "stage 0 compute".into(),
            spans: vec![span(0.0, 2.0, "s0", "F mb0"), span(3.0, 5.0, "s0", "B mb0")],
        },
        GanttRow { label: "stage 0 dp".into(), spans: vec![span(5.0, 5.0, "s1", "reduce")] },
    ];
    let legend = vec![
        LegendEntry { class: "s0".into(), label: "compute".into() },
        LegendEntry { class: "s1".into(), label: "dp_comm".into() },
    ];
    let c = Gantt { id: "timeline", title: "Pipeline", unit: "ms", rows: &rows, legend: &legend };
    insta::assert_snapshot!(gantt(&c).unwrap().as_str());
}

#[test]
fn page_tiny() {
    let mut page = Page::new("Report <1>");
    let bars = bars();
    let c = BarChart { id: "b", title: "t", unit: "s", decimals: 1, bars: &bars[..1] };
    page.push(
        Section::new("Summary")
            .paragraph("a & b")
            .table(&["what", "value"], vec![vec!["step time s".into(), "1.25".into()]])
            .chart(bar_chart(&c).unwrap()),
    );
    insta::assert_snapshot!(page.to_html());
}

#[test]
fn bad_data_is_refused_naming_the_chart_and_the_value() {
    let nan = [Bar { label: "x".into(), value: f64::NAN }];
    let c = BarChart { id: "b", title: "t", unit: "s", decimals: 1, bars: &nan };
    assert_eq!(
        bar_chart(&c).unwrap_err().to_string(),
        "chart `b`: bar `x` is NaN: expected a finite value ≥ 0"
    );
    let c = BarChart { id: "a b", title: "t", unit: "s", decimals: 1, bars: &[] };
    assert_eq!(
        bar_chart(&c).unwrap_err().to_string(),
        "chart `a b`: id `a b`: expected letters, digits, `-` or `_`"
    );
    let series = [LineSeries { name: "n".into(), points: vec![(0.0, 1.0)] }];
    let c =
        LineChart { id: "l", title: "", x_label: "", y_label: "", log2_x: true, series: &series };
    assert_eq!(
        line_chart(&c).unwrap_err().to_string(),
        "chart `l`: series `n` has the point (0, 1): expected finite, x > 0 (log2 axis)"
    );
    let categories = ["a".to_string()];
    let series = [Series { name: "w".into(), values: vec![] }];
    let c = StackedBars {
        id: "m",
        title: "",
        unit: "GB",
        decimals: 0,
        categories: &categories,
        series: &series,
        reference: None,
    };
    assert_eq!(
        stacked_bars(&c).unwrap_err().to_string(),
        "chart `m`: series `w` has 0 values: expected one per category (1)"
    );
    let rows = [GanttRow {
        label: "r".into(),
        spans: vec![GanttSpan { start: 2.0, end: 1.0, class: "s0".into(), title: "x".into() }],
    }];
    let c = Gantt { id: "g", title: "", unit: "ms", rows: &rows, legend: &[] };
    assert_eq!(
        gantt(&c).unwrap_err().to_string(),
        "chart `g`: span `x` of row `r` runs from 2 to 1: expected 0 ≤ start ≤ end, finite"
    );
}

#[test]
fn escaping_and_fixed_numbers() {
    assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    assert_eq!(svg::fixed(-0.0001, 2), "0.00");
    assert_eq!(svg::fixed(-1.5, 1), "-1.5");
    assert_eq!(svg::coord(12.5), "12.5");
    assert_eq!(svg::coord(3.0), "3");
    assert_eq!(svg::coord(-0.001), "0");
    assert_eq!(palette_class(12), "s2");
}
