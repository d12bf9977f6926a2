//! logstat: summarizes log files (`TIMESTAMP LEVEL component: message` lines).

use std::fs;
use std::io::{self, Read};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Text,
}

/// Summarizes log files by level and component.
#[derive(Debug, Parser)]
#[command(name = "logstat", version)]
struct Args {
    /// Log files to read; standard input when none is given.
    files: Vec<String>,
    /// Keep only records whose message matches this regular expression.
    #[arg(short, long)]
    grep: Option<String>,
    /// How many top components to list.
    #[arg(short, long, default_value_t = 5)]
    top: usize,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

fn run(args: &Args) -> Result<String, String> {
    let scanner = logscan::Scanner::new(args.grep.as_deref()).map_err(|e| format!("bad --grep: {e}"))?;
    let mut inputs: Vec<(String, String)> = Vec::new();
    if args.files.is_empty() {
        let mut s = String::new();
        io::stdin().read_to_string(&mut s).map_err(|e| format!("read stdin: {e}"))?;
        inputs.push(("-".into(), s));
    }
    for f in &args.files {
        let s = fs::read_to_string(f).map_err(|e| format!("read {f:?}: {e}"))?;
        inputs.push((f.clone(), s));
    }
    let mut out = String::new();
    for (name, text) in &inputs {
        let records: Vec<logscan::Record> = scanner.scan(text).collect();
        let t: tally::Tally = records.iter().collect();
        let r = report::build(name, &t, args.top);
        match args.format {
            Format::Json => {
                out.push_str(&report::to_json(&r).map_err(|e| e.to_string())?);
                out.push('\n');
            }
            Format::Text => out.push_str(&report::to_text(&r)),
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(s) => {
            print!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logstat: {e}");
            ExitCode::FAILURE
        }
    }
}
