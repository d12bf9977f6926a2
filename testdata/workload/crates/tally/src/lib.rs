//! Counts log records per level and component.

use std::collections::BTreeMap;

use logscan::{Level, Record};
use serde::Serialize;

/// Aggregated counts over a stream of records.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    pub total: u64,
    pub by_level: BTreeMap<Level, u64>,
    pub by_component: BTreeMap<String, u64>,
    pub first: Option<String>,
    pub last: Option<String>,
}

impl Tally {
    /// Adds one record.
    pub fn add(&mut self, r: &Record) {
        self.total += 1;
        *self.by_level.entry(r.level).or_insert(0) += 1;
        *self.by_component.entry(r.component.clone()).or_insert(0) += 1;
        if self.first.as_deref().map_or(true, |f| r.timestamp.as_str() < f) {
            self.first = Some(r.timestamp.clone());
        }
        if self.last.as_deref().map_or(true, |l| r.timestamp.as_str() > l) {
            self.last = Some(r.timestamp.clone());
        }
    }

    /// The `n` components with the most records, most frequent first.
    pub fn top_components(&self, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.by_component.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

impl<'a> FromIterator<&'a Record> for Tally {
    fn from_iter<I: IntoIterator<Item = &'a Record>>(iter: I) -> Self {
        let mut t = Tally::default();
        for r in iter {
            t.add(r);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logscan::Scanner;

    #[test]
    fn counts() {
        let s = Scanner::new(None).unwrap();
        let input = "2024-05-01T12:00:01Z INFO a: x\n2024-05-01T12:00:00Z ERROR b: y\nnoise\n2024-05-01T12:00:02Z INFO a: z\n";
        let recs: Vec<Record> = s.scan(input).collect();
        let t: Tally = recs.iter().collect();
        assert_eq!(t.total, 3);
        assert_eq!(t.by_level[&Level::Info], 2);
        assert_eq!(t.top_components(1), vec![("a".to_string(), 2)]);
        assert_eq!(t.first.as_deref(), Some("2024-05-01T12:00:00Z"));
    }
}
