//! `prodguard install --dry-run`: the steps the Debian package's `postinst` takes, as a shell
//! script, for hosts without dpkg. Review it, then run it as root (`… | sudo sh`).
//!
//! The layout (group, directories, modes) is the one `packaging/debian/postinst` creates; the test
//! `tests/packaging_install.rs` checks that both name the same paths with the same modes.

use super::error::{Error, Status};
use super::EXIT_OK;
use crate::shell::quote::quote;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// The example host description, installed as `/etc/prodguard/host.toml` when there is none.
pub const HOST_TOML_EXAMPLE: &str = include_str!("../../packaging/host.toml");
/// The logrotate configuration for the audit log.
pub const LOGROTATE: &str = include_str!("../../packaging/logrotate/prodguard");

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Print the installation steps as a shell script instead of running them (required: only
    /// the Debian package installs for real).
    #[arg(long)]
    pub dry_run: bool,
    /// Print the /etc/sudo.conf line that enables the sudo approval plugin (nothing is changed).
    #[arg(long, conflicts_with = "dry_run")]
    pub sudo: bool,
    /// Where the binary is installed.
    #[arg(long, value_name = "PATH", default_value = "/usr/bin/prodguard")]
    pub bin: PathBuf,
}

pub fn run(args: &InstallArgs) -> Status {
    if args.sudo {
        print!("{}", super::sudo_setup::instructions());
        return Ok(EXIT_OK);
    }
    if !args.dry_run {
        return Err(Error::Usage(
            "install only prints its steps: run `prodguard install --dry-run`, review the script, then run it as root (or install the Debian package)".into(),
        ));
    }
    let source = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_string));
    let script = script(&args.bin.display().to_string(), source.as_deref());
    let mut out = std::io::stdout().lock();
    out.write_all(script.as_bytes())
        .map_err(Error::io("cannot write the script"))?;
    Ok(EXIT_OK)
}

/// The installation script for a binary at `bin`, copied from `source` when that is elsewhere.
pub fn script(bin: &str, source: Option<&str>) -> String {
    let b = quote(bin);
    let mut s = String::new();
    s.push_str("#!/bin/sh\n");
    s.push_str("# prodguard installation steps (what the Debian package's postinst does).\n");
    s.push_str("# Run as root. Every step is idempotent.\n");
    s.push_str("set -eu\n\n");
    s.push_str(
        "# Audit log: written only by the audit service (root), readable by the adm group (root\n\
         # alone where there is none); setgid directory, so rotated files get the group too.\n\
         reader=root; getent group adm >/dev/null && reader=adm\n\
         install -d -o root -g \"$reader\" -m 2750 /var/log/prodguard\n\
         test -e /var/log/prodguard/audit.jsonl || install -o root -g \"$reader\" -m 0640 /dev/null /var/log/prodguard/audit.jsonl\n\
         chown root:\"$reader\" /var/log/prodguard/audit.jsonl && chmod 0640 /var/log/prodguard/audit.jsonl\n\n",
    );
    s.push_str(
        "# Spool of second-person approval requests: held by the audit service alone (root, 0700);\n\
         # users reach it only through the service's socket. An older sticky 1770 spool is taken over.\n\
         install -d -o root -g root -m 0755 /var/lib/prodguard\n\
         install -d -o root -g root -m 0700 /var/lib/prodguard/requests\n\
         chown root:root /var/lib/prodguard/requests && chmod 0700 /var/lib/prodguard/requests\n\n",
    );
    s.push_str(
        "# Configuration: root-owned, never group- or world-writable.\n\
         install -d -o root -g root -m 0755 /etc/prodguard /etc/prodguard/policies.d\n",
    );
    s.push_str("test -e /etc/prodguard/host.toml || cat >/etc/prodguard/host.toml <<'EOF'\n");
    s.push_str(HOST_TOML_EXAMPLE);
    s.push_str("EOF\n");
    s.push_str(
        "test ! -d /etc/logrotate.d || test -e /etc/logrotate.d/prodguard || cat >/etc/logrotate.d/prodguard <<'EOF'\n",
    );
    s.push_str(LOGROTATE);
    s.push_str("EOF\n\n");
    s.push_str(
        "# The binary: root:root 0755, no privilege; the audit service holds the log and the\n\
         # spool. A setgid bit left by an older install is removed.\n",
    );
    match source {
        Some(src) if src != bin => {
            s.push_str(&format!(
                "install -o root -g root -m 0755 {} {b}\n",
                quote(src)
            ));
        }
        _ => {
            s.push_str(&format!("chown root:root {b}\nchmod 0755 {b}\n"));
        }
    }
    s.push_str(&format!(
        "\n# Allowed as a login shell (chsh, sshd). Enabling it for users is a separate step.\n\
         grep -qxF {b} /etc/shells || echo {b} >>/etc/shells\n"
    ));
    s.push_str(&format!(
        "\n# The audit service, the only writer of the log. With systemd: install the units of\n\
         # packaging/systemd into /etc/systemd/system first. Without: run `{bin} daemon` as root\n\
         # from the init system, restarted when it stops.\n\
         if [ -d /run/systemd/system ] && [ -e /etc/systemd/system/prodguard.socket ]; then\n\
         \x20   systemctl daemon-reload && systemctl enable --now prodguard.socket\n\
         fi\n",
        bin = b
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_is_valid_sh() {
        let s = script("/usr/bin/prodguard", Some("/tmp/build dir/prodguard"));
        assert!(
            s.contains(
                "install -o root -g root -m 0755 '/tmp/build dir/prodguard' /usr/bin/prodguard"
            ),
            "{s}"
        );
        assert!(!s.contains("groupadd"), "no group is created any more: {s}");
        assert!(!s.contains("2755"), "the binary is not setgid: {s}");
        let status = std::process::Command::new("sh")
            .arg("-n")
            .arg("-c")
            .arg(&s)
            .status()
            .expect("sh");
        assert!(status.success());
    }

    #[test]
    fn in_place_install_sets_the_mode_after_the_owner() {
        let s = script("/usr/bin/prodguard", Some("/usr/bin/prodguard"));
        let chown = s.find("chown root:root /usr/bin/prodguard").expect("chown");
        let chmod = s.find("chmod 0755 /usr/bin/prodguard").expect("chmod");
        assert!(
            chown < chmod,
            "chown may leave mode bits to clear: the mode comes last"
        );
    }
}
