//! The sudo approval plugin on this host: the sudo.conf line that enables it (`prodguard install
//! --sudo` prints it), and what `prodguard status` reports: whether /etc/sudo.conf names the
//! plugin, whether the library it names is there, and whether sudoers turns `intercept` on.
//! sudoers is read lightly (Defaults lines of /etc/sudoers and the files of its include
//! directories); anything unreadable makes the answer `unknown`, never a guess.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where the Debian package installs the plugin.
pub const PLUGIN_PATH: &str = "/usr/lib/prodguard/sudo_approval.so";
/// The symbol the plugin exports.
pub const PLUGIN_SYMBOL: &str = "prodguard_approval";
pub const SUDO_CONF: &str = "/etc/sudo.conf";
pub const SUDOERS: &str = "/etc/sudoers";

/// The line of /etc/sudo.conf that enables the plugin.
pub fn plugin_line() -> String {
    format!("Plugin {PLUGIN_SYMBOL} {PLUGIN_PATH}")
}

/// What `prodguard install --sudo` prints.
pub fn instructions() -> String {
    format!(
        "# prodguard's sudo approval plugin: sudo asks `prodguard sudo-check` before it runs any\n\
         # command (see /usr/share/doc/prodguard/sudo.md). Add this line to /etc/sudo.conf,\n\
         # keeping the lines already there (sudoers stays the policy plugin):\n\
         {}\n\
         # Check it from a second root shell before closing the first: `sudo true`.\n\
         # To judge also what commands run as root start (scripts, Ansible modules, `sudo -i`),\n\
         # add to sudoers with visudo:\n\
         #   Defaults intercept, intercept_type=trace\n",
        plugin_line()
    )
}

/// The plugin and intercept, as far as this process can read.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SudoStatus {
    /// The sudo.conf read.
    pub conf: PathBuf,
    /// `enabled` (a `Plugin prodguard_approval …` line), `absent`, or `unknown` (unreadable).
    pub plugin: &'static str,
    /// The library that line names.
    pub library: Option<String>,
    /// Whether that library exists (sudo refuses to run at all when it is missing).
    pub library_present: Option<bool>,
    /// `on`, `off` or `unknown`: the last `Defaults … intercept` / `!intercept` of sudoers.
    pub intercept: &'static str,
    /// Why an answer is unknown.
    pub detail: Option<String>,
}

/// The library named by the plugin's line in a sudo.conf text, if there is one.
pub fn plugin_in_conf(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("Plugin") && w.next() == Some(PLUGIN_SYMBOL))
            .then(|| w.next().map(str::to_string))
            .flatten()
    })
}

/// The intercept setting of one sudoers text: `Some(true)` / `Some(false)` for the last
/// `Defaults` line that sets it, `None` when none does.
pub fn intercept_in_sudoers(text: &str) -> Option<bool> {
    let mut state = None;
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("Defaults") else {
            continue;
        };
        // `Defaults:user`, `Defaults>runas`, `Defaults!cmd`: scoped, but they still turn it on.
        let rest = rest.split_once(char::is_whitespace).map_or("", |(_, r)| r);
        for item in rest.split(',') {
            let item = item.trim();
            let name = item.split('=').next().unwrap_or("").trim();
            match name {
                "intercept" => state = Some(true),
                "!intercept" => state = Some(false),
                _ => {}
            }
        }
    }
    state
}

/// The sudoers files: the main one, then the files of its `@includedir` / `#includedir`
/// directories (sudo skips names with a dot or ending in `~`). `@include` files are read too.
fn sudoers_texts(main: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(main).map_err(|e| format!("{}: {e}", main.display()))?;
    let mut texts = vec![text.clone()];
    for line in text.lines() {
        let line = line.trim();
        if let Some(dir) = line
            .strip_prefix("@includedir ")
            .or_else(|| line.strip_prefix("#includedir "))
        {
            let dir = Path::new(dir.trim());
            let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut names: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.contains('.') && !n.ends_with('~'))
                })
                .collect();
            names.sort();
            for p in names {
                texts.push(
                    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?,
                );
            }
        } else if let Some(file) = line
            .strip_prefix("@include ")
            .or_else(|| line.strip_prefix("#include "))
        {
            let p = Path::new(file.trim());
            texts.push(std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?);
        }
    }
    Ok(texts)
}

/// The status of the plugin and intercept on this host.
pub fn status(conf: &Path, sudoers: &Path) -> SudoStatus {
    let mut detail = Vec::new();
    let (plugin, library) = match std::fs::read_to_string(conf) {
        Ok(text) => match plugin_in_conf(&text) {
            Some(lib) => ("enabled", Some(lib)),
            None => ("absent", None),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ("absent", None),
        Err(e) => {
            detail.push(format!("{}: {e}", conf.display()));
            ("unknown", None)
        }
    };
    // A relative path is relative to sudo's plugin directory.
    let library = library.map(|l| {
        if l.starts_with('/') {
            l
        } else {
            format!("/usr/libexec/sudo/{l}")
        }
    });
    let library_present = library.as_ref().map(|l| Path::new(l).is_file());
    let intercept = match sudoers_texts(sudoers) {
        Ok(texts) => match texts.iter().rev().find_map(|t| intercept_in_sudoers(t)) {
            Some(true) => "on",
            _ => "off",
        },
        Err(e) => {
            detail.push(e);
            "unknown"
        }
    };
    SudoStatus {
        conf: conf.to_path_buf(),
        plugin,
        library,
        library_present,
        intercept,
        detail: (!detail.is_empty()).then(|| detail.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_plugin_line() {
        let conf = "# comment\nPlugin sudoers_policy sudoers.so\nPlugin prodguard_approval /usr/lib/prodguard/sudo_approval.so checker=/x\n";
        assert_eq!(plugin_in_conf(conf).as_deref(), Some(PLUGIN_PATH));
        assert_eq!(plugin_in_conf("#Plugin prodguard_approval /x.so\n"), None);
        assert_eq!(plugin_in_conf(&plugin_line()).as_deref(), Some(PLUGIN_PATH));
    }

    #[test]
    fn reads_intercept_from_defaults_lines() {
        assert_eq!(intercept_in_sudoers("Defaults env_reset\n"), None);
        assert_eq!(
            intercept_in_sudoers("Defaults\tenv_reset, intercept, intercept_type=trace\n"),
            Some(true)
        );
        assert_eq!(
            intercept_in_sudoers("Defaults intercept\nDefaults !intercept\n"),
            Some(false)
        );
        assert_eq!(
            intercept_in_sudoers("Defaults:alice intercept\n"),
            Some(true)
        );
        // intercept_type or log_subcmds alone do not turn it on.
        assert_eq!(
            intercept_in_sudoers("Defaults intercept_type=trace, log_subcmds\n"),
            None
        );
        assert_eq!(intercept_in_sudoers("# Defaults intercept\n"), None);
    }

    #[test]
    fn status_of_files() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("sudo.conf");
        let sudoers = dir.path().join("sudoers");
        let inc = dir.path().join("sudoers.d");
        std::fs::create_dir(&inc).unwrap();
        std::fs::write(
            &conf,
            format!("Plugin prodguard_approval {}\n", conf.display()),
        )
        .unwrap();
        std::fs::write(
            &sudoers,
            format!("Defaults env_reset\n@includedir {}\n", inc.display()),
        )
        .unwrap();
        std::fs::write(inc.join("intercept"), "Defaults intercept\n").unwrap();
        std::fs::write(inc.join("ignored.bak"), "Defaults !intercept\n").unwrap();
        let s = status(&conf, &sudoers);
        assert_eq!(s.plugin, "enabled");
        assert_eq!(s.library_present, Some(true));
        assert_eq!(s.intercept, "on");
        let s = status(&dir.path().join("none.conf"), &dir.path().join("none"));
        assert_eq!(s.plugin, "absent");
        assert_eq!(s.intercept, "unknown");
        assert!(s.detail.is_some());
    }
}
