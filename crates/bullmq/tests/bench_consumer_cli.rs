//! `zs-bench-consumer`'s command line: `--help` explains the settings (environment
//! variables) and exits 0; an unknown argument is refused before anything connects.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_zs-bench-consumer");

#[test]
fn help_exits_0_and_names_the_settings() {
    for flag in ["--help", "-h"] {
        let out = Command::new(BIN).arg(flag).output().unwrap();
        assert!(out.status.success(), "{flag}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        for setting in [
            "REDIS_URL",
            "QUEUE_PREFIX",
            "CONCURRENCY",
            "RECORD_LATENESS",
        ] {
            assert!(text.contains(setting), "{flag} lacks {setting}: {text}");
        }
    }
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn an_unknown_argument_is_refused_in_one_line() {
    let out = Command::new(BIN).arg("--queue").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("see --help"), "{err}");
}
