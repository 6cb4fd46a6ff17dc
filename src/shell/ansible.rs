//! Ansible modules run on this host: `python3 …/AnsiballZ_<module>.py`.
//!
//! Ansible copies each task's module to the managed host as one self-contained Python file and
//! runs it with the remote Python, over ssh (`/bin/sh -c '… python3 …/AnsiballZ_shell.py …'`) and,
//! with `become`, through sudo. The file carries the task's arguments as a JSON literal:
//! `params='{"ANSIBLE_MODULE_ARGS": {…}}'` in the call at its end (ansible-core 2.17 and later),
//! `ANSIBALLZ_PARAMS = '…'` before. Reading it costs one read of a file of about 200 KiB, so the
//! guard judges what the task will really do rather than "python3 ran a file":
//!
//! - `command` / `shell`: the command line (`_raw_params`, or `argv`), run in `chdir`, analysed as
//!   any command line is, reached `via` `ansible shell`;
//! - `file` with `state: absent`: the deletion of `path`, as `rm -r -f -- PATH` would do it;
//! - any module: its name and arguments go into the record ([`Module`]); arguments whose name says
//!   they are secret, and all of them when the task sets `no_log`, are not kept.
//!
//! A module file that cannot be read or understood is an unknown payload: the line fails closed.
//! What is judged is the file as it is when the guard reads it (the threat model: mistakes, not a
//! process racing the guard to rewrite its own module file).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;

/// The most of a module file that is read. Ansible's own files are about 200 KiB; the arguments
/// sit before the embedded zip, or just after the module name near the end.
const MAX_FILE: u64 = 16 * 1024 * 1024;
/// The longest argument value kept in a record.
const MAX_VALUE: usize = 256;
/// Argument names (lower case) whose values are never kept.
const SECRET_WORDS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "private",
];

/// One Ansible module invocation, as its AnsiballZ file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    /// The module's short name (`shell`, `file`, `community.postgresql.postgresql_db`):
    /// `ansible.builtin.` and `ansible.legacy.` are dropped.
    pub name: String,
    /// Its arguments, values as compact text, without Ansible's internal `_ansible_*` ones, the
    /// values of secret-named ones replaced by `[REDACTED]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// The task set `no_log`: none of its arguments are kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_log: bool,
}

/// What a module will run on this host, as a command line to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Payload {
    /// The module, for the record.
    pub module: Module,
    /// A command line that does what the task does, when the guard knows how to say it.
    pub command: Option<String>,
    /// The directory the command runs in (`chdir`), when the task sets it.
    pub chdir: Option<String>,
}

/// Whether `program args…` runs an AnsiballZ module file; the file's path as written.
pub(crate) fn module_file<'a>(program: &str, operands: &'a [String]) -> Option<&'a str> {
    let base = program.rsplit('/').next().unwrap_or(program);
    let python = base == "python"
        || base
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    if !python {
        return None;
    }
    let file = operands.first()?;
    let name = file.rsplit('/').next().unwrap_or(file);
    (name.starts_with("AnsiballZ_") && name.ends_with(".py")).then_some(file.as_str())
}

/// Read and understand the module file at `path` (absolute).
pub(crate) fn read(path: &str) -> Result<Payload, String> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking: a FIFO named `AnsiballZ_x.py` must not hang the guard.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| format!("cannot read the Ansible module file {path}: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read the Ansible module file {path}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "the Ansible module file {path} is not a regular file"
        ));
    }
    let mut text = String::new();
    file.take(MAX_FILE)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the Ansible module file {path}: {e}"))?;
    let fallback = path
        .rsplit('/')
        .next()
        .and_then(|n| n.strip_prefix("AnsiballZ_"))
        .and_then(|n| n.strip_suffix(".py"))
        .unwrap_or("unknown");
    parse(&text, fallback).ok_or_else(|| {
        format!("the Ansible module file {path} holds no arguments the guard can read")
    })
}

/// The payload of a module file's text; `fallback` names the module when the text does not.
pub(crate) fn parse(text: &str, fallback: &str) -> Option<Payload> {
    let params = text.lines().find_map(|line| {
        let line = line.trim_start();
        let rest = line
            .strip_prefix("params=")
            .or_else(|| line.strip_prefix("ANSIBALLZ_PARAMS = "))
            .or_else(|| line.strip_prefix("ANSIBALLZ_PARAMS="))?;
        python_string(rest.trim_end().trim_end_matches(','))
    })?;
    let value: serde_json::Value = serde_json::from_str(&params).ok()?;
    let args = value.get("ANSIBLE_MODULE_ARGS")?.as_object()?;
    let named = text.lines().find_map(|line| {
        python_string(
            line.trim_start()
                .strip_prefix("ansible_module=")?
                .trim_end()
                .trim_end_matches(','),
        )
    });
    let name = named
        .or_else(|| {
            args.get("_ansible_module_name")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| fallback.to_owned());
    let name = short_name(&name).to_owned();
    let no_log = args.get("_ansible_no_log").and_then(|v| v.as_bool()) == Some(true);
    let str_arg = |k: &str| args.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let command = match name.as_str() {
        "command" | "shell" => str_arg("_raw_params")
            .or_else(|| str_arg("cmd"))
            .or_else(|| {
                let argv: Vec<String> = args
                    .get("argv")?
                    .as_array()?
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<_>>()?;
                Some(super::quote::join(&argv))
            }),
        "file" if str_arg("state").as_deref() == Some("absent") => str_arg("path")
            .or_else(|| str_arg("dest"))
            .or_else(|| str_arg("name"))
            .map(|p| super::quote::join(&["rm", "-r", "-f", "--", &p].map(String::from))),
        _ => None,
    };
    let kept = if no_log {
        BTreeMap::new()
    } else {
        args.iter()
            .filter(|(k, _)| !k.starts_with("_ansible"))
            .map(|(k, v)| (k.clone(), shown(k, v)))
            .collect()
    };
    Some(Payload {
        module: Module {
            name,
            args: kept,
            no_log,
        },
        command,
        chdir: str_arg("chdir"),
    })
}

fn short_name(name: &str) -> &str {
    name.strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name)
}

/// An argument's value as the record keeps it.
fn shown(name: &str, value: &serde_json::Value) -> String {
    let lower = name.to_ascii_lowercase();
    if value.is_null() {
        return "null".to_owned();
    }
    if SECRET_WORDS.iter().any(|w| lower.contains(w)) {
        return "[REDACTED]".to_owned();
    }
    let mut text = match value.as_str() {
        Some(s) => s.to_owned(),
        None => value.to_string(),
    };
    if text.len() > MAX_VALUE {
        let mut cut = MAX_VALUE;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// The value of a Python string literal (`'…'`, `"…"`, `b'…'`, `r'…'`), the whole of `lit`.
fn python_string(lit: &str) -> Option<String> {
    let (raw, lit) = match lit.as_bytes().first()? {
        b'b' | b'u' => (false, &lit[1..]),
        b'r' => (true, &lit[1..]),
        _ => (false, lit),
    };
    let quote = lit.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = lit.strip_prefix(quote)?.strip_suffix(quote)?;
    if raw {
        return Some(body.to_owned());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'x' => out.push(hex_char(&mut chars, 2)?),
            'u' => out.push(hex_char(&mut chars, 4)?),
            'U' => out.push(hex_char(&mut chars, 8)?),
            '\n' => {}
            other => out.push(other),
        }
    }
    Some(out)
}

fn hex_char(chars: &mut std::str::Chars<'_>, n: usize) -> Option<char> {
    let digits: String = chars.by_ref().take(n).collect();
    if digits.len() != n {
        return None;
    }
    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of an ansible-core 2.19 module file's end (the module and zip are cut short).
    fn new_style(args: &str) -> String {
        format!(
            "#!/usr/bin/python3\n# -*- coding: utf-8 -*-\ndef _ansiballz_main(\n    zip_data: str,\n):\n    pass\n\n\
             if __name__ == \"__main__\":\n    _ansiballz_main(\n\
             ansible_module='ansible.legacy.command',\n\
             module_fqn='ansible.modules.command',\n\
             params='{{\"ANSIBLE_MODULE_ARGS\": {args}}}',\n\
             extensions={{}},\n\
             zip_data='UEsDBBQAAAAIAK+Egl1zbilz'\n)\n"
        )
    }

    #[test]
    fn a_shell_task_is_its_command_line() {
        let text = new_style(
            r#"{"_raw_params": "cd /x && rm -rf /var/lib/postgresql/15/main", "_uses_shell": true, "chdir": "/srv", "_ansible_no_log": false, "_ansible_module_name": "ansible.legacy.command"}"#,
        );
        let p = parse(&text, "command").expect("payload");
        assert_eq!(p.module.name, "command");
        assert_eq!(
            p.command.as_deref(),
            Some("cd /x && rm -rf /var/lib/postgresql/15/main")
        );
        assert_eq!(p.chdir.as_deref(), Some("/srv"));
        assert_eq!(
            p.module.args.get("_raw_params").map(String::as_str),
            Some("cd /x && rm -rf /var/lib/postgresql/15/main")
        );
        assert!(!p.module.args.keys().any(|k| k.starts_with("_ansible")));
    }

    #[test]
    fn the_old_layout_and_argv_are_read() {
        let text = "ANSIBALLZ_PARAMS = '{\"ANSIBLE_MODULE_ARGS\": {\"argv\": [\"rm\", \"-rf\", \"/srv/data dir\"], \"_ansible_module_name\": \"command\"}}'\n";
        let p = parse(text, "command").expect("payload");
        assert_eq!(p.command.as_deref(), Some("rm -rf '/srv/data dir'"));
    }

    #[test]
    fn deleting_with_the_file_module_is_rm() {
        let text = new_style(r#"{"path": "/var/lib/mysql", "state": "absent"}"#)
            .replace("ansible.legacy.command", "ansible.builtin.file");
        let p = parse(&text, "file").expect("payload");
        assert_eq!(p.module.name, "file");
        assert_eq!(p.command.as_deref(), Some("rm -r -f -- /var/lib/mysql"));
        let kept = new_style(r#"{"path": "/etc/x", "state": "directory"}"#)
            .replace("ansible.legacy.command", "ansible.builtin.file");
        assert_eq!(parse(&kept, "file").expect("payload").command, None);
    }

    #[test]
    fn secrets_and_no_log_tasks_keep_no_values() {
        let text = new_style(
            r#"{"name": "app", "password": "hunter2", "login_password": "x", "api_token": "t", "_ansible_no_log": false}"#,
        )
        .replace("ansible.legacy.command", "community.postgresql.postgresql_user");
        let p = parse(&text, "x").expect("payload");
        assert_eq!(p.module.name, "community.postgresql.postgresql_user");
        assert_eq!(p.module.args["name"], "app");
        for k in ["password", "login_password", "api_token"] {
            assert_eq!(p.module.args[k], "[REDACTED]", "{k}");
        }
        let quiet = new_style(r#"{"_raw_params": "echo s3cr3t", "_ansible_no_log": true}"#);
        let p = parse(&quiet, "x").expect("payload");
        assert!(p.module.no_log && p.module.args.is_empty());
        assert_eq!(p.command.as_deref(), Some("echo s3cr3t"));
    }

    #[test]
    fn python_literals_are_unescaped() {
        assert_eq!(
            python_string(r#"'a\'b\\c\n\x41\u00e9'"#).as_deref(),
            Some("a'b\\c\nAé")
        );
        assert_eq!(python_string(r#"b"x""#).as_deref(), Some("x"));
        assert_eq!(python_string("'unterminated"), None);
        assert_eq!(python_string("'a'b'"), None);
        assert_eq!(python_string("'\\u00'"), None);
    }

    #[test]
    fn what_is_not_a_module_file() {
        let ops = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(module_file("python3", &ops(&["/h/.ansible/tmp/t/AnsiballZ_shell.py"])).is_some());
        assert!(module_file("python3.11", &ops(&["AnsiballZ_file.py"])).is_some());
        assert!(module_file("python3", &ops(&["/tmp/script.py"])).is_none());
        assert!(module_file("pythonista", &ops(&["AnsiballZ_x.py"])).is_none());
        assert!(module_file("python3", &[]).is_none());
        assert_eq!(parse("print('hello')\n", "x"), None);
    }
}
