//! Whether a configuration file can be trusted: the rule of OpenSSH's `StrictModes`. The file
//! is a regular file, and it and every directory above it are owned by root or by the user the
//! guard runs as, and writable by no one else. A root-owned directory with the sticky bit (such
//! as `/tmp`) may be world-writable: no one else can replace what is in it.
//!
//! A guard whose host description or policy another user can edit guards nothing: `host.toml`,
//! the site packs and the install's paths file are all held to this rule.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why a configuration file is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    #[error("cannot inspect {}: {source}", path.display())]
    Inspect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "{0} must be owned by root{1} and writable by no one else (owner uid {owner}, mode {mode:o}); as root: chown root {0} && chmod go-w {0}",
        path.display(),
        if *uid == 0 { "" } else { " (or you)" }
    )]
    Writable {
        path: PathBuf,
        owner: u32,
        mode: u32,
        uid: u32,
    },
}

/// Check `file` for a guard running as `uid` (its effective uid).
pub fn check(file: &Path, uid: u32) -> Result<(), Untrusted> {
    let inspect = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Untrusted::Inspect { path, source }
    };
    let meta = std::fs::symlink_metadata(file).map_err(inspect(file))?;
    if !meta.file_type().is_file() {
        return Err(Untrusted::NotAFile {
            path: file.to_path_buf(),
        });
    }
    judge(file, &meta, uid, false)?;
    // Canonical parents: a symlinked directory is judged where it really is.
    let real = std::fs::canonicalize(file).map_err(inspect(file))?;
    let mut dir = real.parent();
    while let Some(d) = dir {
        let m = std::fs::metadata(d).map_err(inspect(d))?;
        judge(d, &m, uid, true)?;
        dir = d.parent();
    }
    Ok(())
}

fn judge(path: &Path, m: &std::fs::Metadata, uid: u32, is_dir: bool) -> Result<(), Untrusted> {
    let owner_ok = m.uid() == 0 || m.uid() == uid;
    let sticky_root = is_dir && m.uid() == 0 && m.mode() & 0o1000 != 0;
    if owner_ok && (m.mode() & 0o022 == 0 || sticky_root) {
        return Ok(());
    }
    Err(Untrusted::Writable {
        path: path.to_path_buf(),
        owner: m.uid(),
        mode: m.mode() & 0o7777,
        uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn owner_and_mode_of_the_file_and_every_parent() {
        let uid = nix::unistd::geteuid().as_raw();
        let dir = tempfile::tempdir().expect("temp dir");
        let sub = dir.path().join("etc");
        std::fs::create_dir(&sub).expect("mkdir");
        chmod(&sub, 0o755);
        let file = sub.join("host.toml");
        std::fs::write(&file, "environment = \"production\"\n").expect("write");
        chmod(&file, 0o644);
        check(&file, uid).expect("trusted");

        chmod(&file, 0o664);
        let e = check(&file, uid).expect_err("group-writable file");
        assert!(e.to_string().contains("mode 664"), "{e}");
        chmod(&file, 0o646);
        assert!(check(&file, uid).is_err(), "world-writable file");
        chmod(&file, 0o644);

        chmod(&sub, 0o775);
        let e = check(&file, uid).expect_err("group-writable directory");
        assert!(e.to_string().starts_with(&sub.display().to_string()), "{e}");
        chmod(&sub, 0o755);

        // Owned by someone else (not root, not us).
        if uid != 0 {
            assert!(matches!(
                check(&file, uid + 1),
                Err(Untrusted::Writable { .. })
            ));
        }

        let fifo = sub.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644))
            .expect("mkfifo");
        assert!(matches!(check(&fifo, uid), Err(Untrusted::NotAFile { .. })));
        assert!(matches!(
            check(&sub.join("missing"), uid),
            Err(Untrusted::Inspect { .. })
        ));
    }

    #[test]
    fn a_symlinked_directory_is_judged_where_it_really_is() {
        let uid = nix::unistd::geteuid().as_raw();
        let dir = tempfile::tempdir().expect("temp dir");
        let open = dir.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        let file = open.join("host.toml");
        std::fs::write(&file, "").expect("write");
        chmod(&file, 0o644);
        chmod(&open, 0o777);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&open, &link).expect("symlink");
        assert!(check(&link.join("host.toml"), uid).is_err());
    }
}
