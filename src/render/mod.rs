//! Rendering: colour policy, the one place that writes to stdout, and one renderer per format.

pub mod doctor;
pub mod fleet;
pub mod graph;
pub mod pool;

use crate::error::Failure;
use crate::findings::Report;
use owo_colors::OwoColorize;
use std::io::{IsTerminal, Write};

/// Colour and symbol policy for human output.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether ANSI colours are emitted.
    pub color: bool,
}

impl Style {
    /// Colour only on a terminal, never with --no-color or NO_COLOR set (to anything non-empty).
    pub fn detect(no_color_flag: bool) -> Self {
        let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style { color: !no_color_flag && !env_off && std::io::stdout().is_terminal() }
    }

    /// No colour at all (files, tests).
    pub fn plain() -> Self {
        Style { color: false }
    }

    /// Green text.
    pub fn ok(&self, s: &str) -> String {
        if self.color {
            s.green().to_string()
        } else {
            s.to_string()
        }
    }

    /// Yellow text.
    pub fn warn(&self, s: &str) -> String {
        if self.color {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }

    /// Red text.
    pub fn bad(&self, s: &str) -> String {
        if self.color {
            s.red().to_string()
        } else {
            s.to_string()
        }
    }

    /// Dimmed text.
    pub fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }

    /// Bold text.
    pub fn bold(&self, s: &str) -> String {
        if self.color {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }
}

/// Symbol for a passing check.
pub const PASS: &str = "✔";
/// Symbol for a warning.
pub const WARN: &str = "‼";
/// Symbol for a failure.
pub const FAIL: &str = "✖";
/// Symbol for a skipped check.
pub const SKIP: &str = "-";

/// Write data to stdout. A closed pipe (`| head`) is a quiet exit 0 (as ripgrep does), any other
/// write error a failure; `main` ends the run either way.
pub fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::quiet(0)
        } else {
            Failure::new(format!("cannot write to stdout: {e}")).caused_by(e)
        }
    })
}

/// The document formats of a report (`-o`), as plain settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The checklist for humans.
    Table,
    /// The checklist with every skipped check on its own line.
    Wide,
    Json,
    Yaml,
}

/// A doctor report in `format`.
pub fn report_document(report: &Report, format: Format, style: Style) -> String {
    match format {
        Format::Table | Format::Wide => doctor::render_table(report, style, format == Format::Wide),
        Format::Json => to_json(report),
        Format::Yaml => to_yaml(report),
    }
}

/// Serialize a value as pretty JSON with a trailing newline.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Serialize a value as YAML.
pub fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    // Going through serde_json::Value keeps key order and field names identical to -o json.
    let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    serde_saphyr::to_string(&v).unwrap_or_else(|e| format!("error: {e}\n"))
}
