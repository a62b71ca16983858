//! The anchor: the SQLite write pace of one booking create measured by a plain Python script
//! on this host in this run, so the product's rate is read as a ratio, not an absolute.

use std::path::Path;
use std::process::Command;

/// One run of the anchor script.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorRun {
    /// Booking transactions per second.
    pub rate: f64,
    /// The line the script printed.
    pub line: String,
}

/// Runs `python3 script n`; `Err` says in words why there is no figure.
pub fn measure(script: &Path, n: usize) -> Result<AnchorRun, String> {
    if !script.is_file() {
        return Err(format!("no anchor script at {}", script.display()));
    }
    let out = Command::new("python3")
        .arg(script)
        .arg(n.to_string())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "python3 is not installed".to_owned(),
            _ => format!("running python3: {e}"),
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim();
        return Err(format!("the anchor script failed ({}): {last}", out.status));
    }
    stdout
        .lines()
        .find_map(parse)
        .ok_or_else(|| format!("the anchor script printed no rate: {}", stdout.trim()))
}

/// Reads `N booking transactions in S s: R/s, U us each`.
fn parse(line: &str) -> Option<AnchorRun> {
    let (_, rest) = line.split_once(" booking transactions in ")?;
    let (_, rest) = rest.split_once(": ")?;
    let (rate, _) = rest.split_once("/s")?;
    let rate: f64 = rate.trim().parse().ok()?;
    (rate.is_finite() && rate > 0.0).then(|| AnchorRun {
        rate,
        line: line.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scripts_line() {
        let r = parse("20000 booking transactions in 1.86 s: 10771/s, 93 us each").unwrap();
        assert_eq!(r.rate, 10771.0);
        assert!(r.line.starts_with("20000 booking"));
    }

    #[test]
    fn refuses_other_lines() {
        assert_eq!(parse("Traceback (most recent call last):"), None);
        assert_eq!(
            parse("1 booking transactions in 0 s: inf/s, 0 us each"),
            None
        );
        assert_eq!(parse("1 booking transactions in 0 s: x/s, 0 us each"), None);
    }

    #[test]
    fn a_missing_script_is_said_so() {
        let e = measure(Path::new("/nonexistent/booking_writes.py"), 10).unwrap_err();
        assert!(e.contains("no anchor script at /nonexistent"), "{e}");
    }
}
