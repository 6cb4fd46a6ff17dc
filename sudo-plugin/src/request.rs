//! What the plugin hands the checker: its options from sudo.conf, the facts sudo gives about the
//! invoking user and the command, and the checker's argument vector built from them.

use crate::sys::lookup;
use std::time::Duration;

/// The checker run when sudo.conf names none.
pub const DEFAULT_CHECKER: &[u8] = b"/usr/bin/prodguard";
/// How long a checker that can ask on a terminal may take (a human is typing).
pub const DEFAULT_TTY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a checker without a terminal may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The plugin's options: the words after the path on its `Plugin` line in /etc/sudo.conf.
/// Only sudo.conf (root's file) sets them, never the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `checker=PATH`: the prodguard binary.
    pub checker: Vec<u8>,
    /// `host_file=PATH`, `policy_dir=DIR`, `audit_file=PATH`: passed on as `--host-file` etc.
    pub host_file: Option<Vec<u8>>,
    pub policy_dir: Option<Vec<u8>>,
    pub audit_file: Option<Vec<u8>>,
    /// `timeout=SECS`: the limit without a terminal.
    pub timeout: Duration,
    /// `tty_timeout=SECS`: the limit with a terminal.
    pub tty_timeout: Duration,
}

impl Options {
    /// Parse the options; unknown words and unreadable numbers are ignored (with a note for the
    /// caller to show), so a typo never disables sudo.
    pub fn parse(list: &[Vec<u8>]) -> (Options, Vec<String>) {
        let mut notes = Vec::new();
        let secs = |key: &str, default: Duration, notes: &mut Vec<String>| match lookup(list, key) {
            None => default,
            Some(v) => match std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
            {
                Some(n) if n > 0 => Duration::from_secs(n),
                _ => {
                    notes.push(format!(
                        "{key}: not a positive number of seconds, using the default"
                    ));
                    default
                }
            },
        };
        let path = |key: &str| {
            lookup(list, key)
                .filter(|v| !v.is_empty())
                .map(<[u8]>::to_vec)
        };
        let opts = Options {
            checker: path("checker").unwrap_or_else(|| DEFAULT_CHECKER.to_vec()),
            host_file: path("host_file"),
            policy_dir: path("policy_dir"),
            audit_file: path("audit_file"),
            timeout: secs("timeout", DEFAULT_TIMEOUT, &mut notes),
            tty_timeout: secs("tty_timeout", DEFAULT_TTY_TIMEOUT, &mut notes),
        };
        const KNOWN: [&str; 6] = [
            "checker",
            "host_file",
            "policy_dir",
            "audit_file",
            "timeout",
            "tty_timeout",
        ];
        for kv in list {
            let key = kv.split(|&b| b == b'=').next().unwrap_or(kv);
            if !KNOWN.iter().any(|k| k.as_bytes() == key) {
                notes.push(format!("unknown option {}", String::from_utf8_lossy(kv)));
            }
        }
        (opts, notes)
    }
}

/// The invoking user, from sudo's `user_info` at open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invoker {
    pub user: Option<Vec<u8>>,
    pub uid: Option<Vec<u8>>,
    pub tty: Option<Vec<u8>>,
    pub cwd: Option<Vec<u8>>,
}

impl Invoker {
    pub fn from_user_info(info: &[Vec<u8>]) -> Invoker {
        let get = |k: &str| {
            lookup(info, k)
                .filter(|v| !v.is_empty())
                .map(<[u8]>::to_vec)
        };
        Invoker {
            user: get("user"),
            uid: get("uid"),
            tty: get("tty"),
            cwd: get("cwd"),
        }
    }
}

/// The checker's argument vector: `CHECKER [--host-file …] sudo-check [--no-ask] --user U --uid N
/// --runas R --cwd DIR [--tty PATH] -- RUN_ARGV…`; `--no-ask` for `sudo -n` (`no_ask`). The working directory is the command's (`runcwd=` or
/// `cwd=` in command_info), else the invoking user's; the run-as user is `runas_user=`, else
/// `runas_uid=`.
pub fn checker_argv(
    opts: &Options,
    who: &Invoker,
    no_ask: bool,
    command_info: &[Vec<u8>],
    run_argv: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![opts.checker.clone(), b"sudo-check".to_vec()];
    if no_ask {
        v.push(b"--no-ask".to_vec());
    }
    let mut pair = |flag: &str, value: Option<&[u8]>| {
        if let Some(value) = value {
            v.push(flag.as_bytes().to_vec());
            v.push(value.to_vec());
        }
    };
    pair("--host-file", opts.host_file.as_deref());
    pair("--policy-dir", opts.policy_dir.as_deref());
    pair("--audit-file", opts.audit_file.as_deref());
    pair("--user", who.user.as_deref());
    pair("--uid", who.uid.as_deref());
    let runas = lookup(command_info, "runas_user").or_else(|| lookup(command_info, "runas_uid"));
    pair("--runas", runas);
    let cwd = lookup(command_info, "runcwd")
        .or_else(|| lookup(command_info, "cwd"))
        .filter(|c| c.starts_with(b"/"))
        .or(who.cwd.as_deref());
    pair("--cwd", cwd);
    pair("--tty", who.tty.as_deref());
    // The question must time out (and refuse) before this plugin gives up on the checker.
    let limit = if no_ask || who.tty.is_none() {
        opts.timeout
    } else {
        opts.tty_timeout
    };
    pair("--within", Some(limit.as_secs().to_string().as_bytes()));
    v.push(b"--".to_vec());
    v.extend(run_argv.iter().cloned());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn options_default_and_override() {
        let (o, notes) = Options::parse(&[]);
        assert_eq!(o.checker, DEFAULT_CHECKER);
        assert_eq!(o.timeout, DEFAULT_TIMEOUT);
        assert!(notes.is_empty());
        let (o, notes) = Options::parse(&list(&[
            "checker=/opt/pg/prodguard",
            "timeout=3",
            "tty_timeout=x",
            "audit_file=/tmp/a.jsonl",
            "colour=red",
        ]));
        assert_eq!(o.checker, b"/opt/pg/prodguard");
        assert_eq!(o.timeout, Duration::from_secs(3));
        assert_eq!(o.tty_timeout, DEFAULT_TTY_TIMEOUT);
        assert_eq!(o.audit_file.as_deref(), Some(&b"/tmp/a.jsonl"[..]));
        assert_eq!(notes.len(), 2, "{notes:?}");
    }

    #[test]
    fn argv_carries_every_fact_and_the_command_verbatim() {
        let (o, _) = Options::parse(&list(&["checker=/pg", "host_file=/h.toml"]));
        let who = Invoker::from_user_info(&list(&[
            "user=alice",
            "uid=1000",
            "tty=/dev/pts/3",
            "cwd=/home/alice",
        ]));
        let info = list(&["command=/usr/bin/rm", "runas_user=postgres", "runcwd=/srv"]);
        let argv = checker_argv(&o, &who, false, &info, &list(&["rm", "-rf", "--", "a b"]));
        let text: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(
            text,
            [
                "/pg",
                "sudo-check",
                "--host-file",
                "/h.toml",
                "--user",
                "alice",
                "--uid",
                "1000",
                "--runas",
                "postgres",
                "--cwd",
                "/srv",
                "--tty",
                "/dev/pts/3",
                "--within",
                "120",
                "--",
                "rm",
                "-rf",
                "--",
                "a b"
            ]
        );
        // Without a command cwd, the user's; without runas_user, the uid.
        let argv = checker_argv(&o, &who, true, &list(&["runas_uid=0"]), &list(&["ls"]));
        assert_eq!(argv[2], b"--no-ask");
        let at = |flag: &str| {
            let i = argv.iter().position(|a| a == flag.as_bytes()).unwrap();
            argv[i + 1].clone()
        };
        assert_eq!(at("--cwd"), b"/home/alice");
        assert_eq!(at("--runas"), b"0");
    }
}
