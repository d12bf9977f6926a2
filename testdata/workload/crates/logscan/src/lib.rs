//! Parses log lines of the form `2024-05-01T12:00:00Z LEVEL component: message`.

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Severity of a log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_uppercase().as_str() {
            "TRACE" => Some(Level::Trace),
            "DEBUG" => Some(Level::Debug),
            "INFO" => Some(Level::Info),
            "WARN" | "WARNING" => Some(Level::Warn),
            "ERROR" | "ERR" => Some(Level::Error),
            _ => None,
        }
    }
}

/// One parsed log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub timestamp: String,
    pub level: Level,
    pub component: String,
    pub message: String,
}

/// A compiled line parser with an optional message filter.
pub struct Scanner {
    line: Regex,
    filter: Option<Regex>,
}

impl Scanner {
    /// Builds a scanner; `filter`, when given, keeps only messages it matches.
    pub fn new(filter: Option<&str>) -> Result<Scanner, regex::Error> {
        let line = Regex::new(
            r"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?)\s+(?P<level>[A-Za-z]+)\s+(?P<comp>[\w.-]+):\s*(?P<msg>.*)$",
        )?;
        let filter = match filter {
            Some(f) => Some(Regex::new(f)?),
            None => None,
        };
        Ok(Scanner { line, filter })
    }

    /// Parses one line; `None` for lines that are not records or are filtered out.
    pub fn parse(&self, text: &str) -> Option<Record> {
        let caps = self.line.captures(text.trim_end())?;
        let level = Level::parse(&caps["level"])?;
        let message = caps["msg"].to_string();
        if let Some(f) = &self.filter {
            if !f.is_match(&message) {
                return None;
            }
        }
        Some(Record {
            timestamp: caps["ts"].to_string(),
            level,
            component: caps["comp"].to_string(),
            message,
        })
    }

    /// Parses every line of `input`.
    pub fn scan<'a>(&'a self, input: &'a str) -> impl Iterator<Item = Record> + 'a {
        input.lines().filter_map(move |l| self.parse(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_line() {
        let s = Scanner::new(None).unwrap();
        let r = s.parse("2024-05-01T12:00:00Z WARN net.http: slow response").unwrap();
        assert_eq!(r.level, Level::Warn);
        assert_eq!(r.component, "net.http");
        assert_eq!(r.message, "slow response");
    }

    #[test]
    fn filter_drops_other_messages() {
        let s = Scanner::new(Some("timeout")).unwrap();
        assert!(s.parse("2024-05-01T12:00:00Z ERROR db: disk full").is_none());
        assert!(s.parse("2024-05-01T12:00:00Z ERROR db: timeout after 3s").is_some());
    }
}
