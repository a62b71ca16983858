//! The key sealing webhook signing secrets: `ZS_SECRET_KEY`, else the data directory's
//! `secret-key` file, generated (0600) on first start. Instances sharing one PostgreSQL
//! database must share the key: set the same `ZS_SECRET_KEY` everywhere (or the same file).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use zs_delivery::SecretKey;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secret-key";

/// Where the key came from, for the messages that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `ZS_SECRET_KEY` setting.
    Setting,
    /// The key file (generated now or earlier).
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Setting => f.write_str("ZS_SECRET_KEY"),
            KeySource::File(p) => write!(f, "the key file {} (ZS_SECRET_KEY unset)", p.display()),
        }
    }
}

/// The key and where it came from: the setting when given (a malformed one fails the start),
/// else the key file in `data_dir`, made with a fresh key if missing.
pub fn load(setting: Option<&str>, data_dir: &Path) -> anyhow::Result<(SecretKey, KeySource)> {
    if let Some(text) = setting.filter(|s| !s.is_empty()) {
        let key = SecretKey::parse(text)
            .map_err(|e| anyhow::anyhow!("ZS_SECRET_KEY is not a valid key: {e}"))?;
        return Ok((key, KeySource::Setting));
    }
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = SecretKey::parse(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a valid key file: {e}", path.display()))?;
            Ok((key, KeySource::File(path)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_new(&path, &format!("{}\n", key.to_base64()))?;
            tracing::info!(path = %path.display(), "generated the key sealing webhook secrets");
            Ok((key, KeySource::File(path)))
        }
        Err(e) => bail!("reading {}: {e}", path.display()),
    }
}

/// Writes a new file readable by its owner only (0600).
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    f.sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(label: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "zs-key-{label}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn rand_suffix() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    }

    #[test]
    fn the_key_file_is_made_once_owner_only_and_read_back() {
        let d = dir("file");
        let (first, source) = load(None, &d).unwrap();
        assert_eq!(source, KeySource::File(d.join(KEY_FILE)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, _) = load(Some(""), &d).unwrap();
        assert!(again.matches(&first.check_value()), "the same key twice");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_setting_wins_and_a_malformed_one_is_named() {
        let d = dir("setting");
        let key = SecretKey::generate();
        let (got, source) = load(Some(&key.to_base64()), &d).unwrap();
        assert_eq!(source, KeySource::Setting);
        assert!(got.matches(&key.check_value()));
        assert!(!d.join(KEY_FILE).exists(), "no file with the setting");
        let e = load(Some("c2hvcnQ="), &d).unwrap_err().to_string();
        assert!(
            e.starts_with("ZS_SECRET_KEY is not a valid key: expected 32 bytes"),
            "{e}"
        );
        std::fs::write(d.join(KEY_FILE), "garbage").unwrap();
        let e = load(None, &d).unwrap_err().to_string();
        assert!(e.contains("secret-key is not a valid key file"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
