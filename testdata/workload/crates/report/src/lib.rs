//! Renders a tally as JSON or as plain text.

use serde::Serialize;
use tally::Tally;

/// The JSON document the tool prints.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub source: &'a str,
    #[serde(flatten)]
    pub tally: &'a Tally,
    pub top: Vec<Top>,
}

/// One entry of the top-components list.
#[derive(Debug, Serialize)]
pub struct Top {
    pub component: String,
    pub count: u64,
}

/// Builds the report for `tally` with the `top` most frequent components.
pub fn build<'a>(source: &'a str, tally: &'a Tally, top: usize) -> Report<'a> {
    Report {
        source,
        tally,
        top: tally
            .top_components(top)
            .into_iter()
            .map(|(component, count)| Top { component, count })
            .collect(),
    }
}

/// Serializes the report as pretty JSON.
pub fn to_json(r: &Report<'_>) -> serde_json::Result<String> {
    serde_json::to_string_pretty(r)
}

/// Formats the report as aligned text lines.
pub fn to_text(r: &Report<'_>) -> String {
    let mut out = format!("{}: {} records\n", r.source, r.tally.total);
    for (level, n) in &r.tally.by_level {
        let name = serde_json::to_value(level).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        out.push_str(&format!("  {:<6} {:>6}\n", name, n));
    }
    for t in &r.top {
        out.push_str(&format!("  top {:<20} {:>6}\n", t.component, t.count));
    }
    out
}
