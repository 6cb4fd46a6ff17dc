//! Splitting a program's arguments into flags, option values and operands, with the option
//! table of [`crate::clients`].
//!
//! The generic rule (GNU style, options may follow operands): `--name=value` is flag `name`
//! with option (`name`, `value`); `--name` a flag; `-abc` flags `a`, `b`, `c`; `--` ends
//! options. A short option that takes a value must be listed in the program's table, or its
//! value would be mistaken for an operand (`kubectl -n prod delete ns x`).

use crate::clients::{spec_for, Value, COMPOSE};
use std::collections::BTreeSet;

/// Arguments split into flags, option values and operands.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub flags: BTreeSet<String>,
    pub options: Vec<(String, String)>,
    pub operands: Vec<String>,
    /// Indices into the argument list of each operand (for target resolution).
    pub operand_idx: Vec<usize>,
}

/// Parses `args` (after the program name) with the table of `program`.
pub(crate) fn parse(program: &str, args: &[String]) -> Parsed {
    let mut spec = spec_for(program);
    // `docker compose …` has the options of docker-compose (`-f FILE`, `-p NAME`), not docker's.
    let compose_host = matches!(program, "docker" | "podman" | "nerdctl");
    let mut p = Parsed::default();
    let signal_word = matches!(program, "kill" | "pkill" | "killall");
    let mut i = 0;
    // `tar xzf file`: the first word is a cluster of short options without the dash.
    let tar_cluster = program == "tar"
        && args
            .first()
            .is_some_and(|a| !a.starts_with('-') && a.bytes().all(|b| b.is_ascii_alphabetic()));
    let mut only_operands = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_operands || a == "-" || !(a.starts_with('-') || tar_cluster && i == 1) {
            if compose_host && p.operands.is_empty() && a == "compose" {
                spec = &COMPOSE;
            }
            p.operands.push(a.clone());
            p.operand_idx.push(i - 1);
            // `redis-cli SET k -1`: after the command, every word is an argument of it.
            only_operands |= spec.stop_at_positional;
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        if signal_word && i == 1 && is_signal(&a[1..]) {
            p.flags.insert("signal".to_owned());
            p.options.push(("signal".to_owned(), a[1..].to_owned()));
            continue;
        }
        let (long_body, is_long) = if let Some(body) = a.strip_prefix("--") {
            (body, true)
        } else if spec.single_dash_long && a.len() > 2 {
            (&a[1..], true)
        } else {
            ("", false)
        };
        if is_long {
            let (name, attached) = match long_body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long_body, None),
            };
            let (canon, kind) = spec.long_opt(name).unwrap_or((name, Value::No));
            p.flags.insert(canon.to_owned());
            match (attached, kind) {
                (Some(v), _) => p.options.push((canon.to_owned(), v.to_owned())),
                (None, Value::Req) => {
                    if let Some(v) = args.get(i) {
                        p.options.push((canon.to_owned(), v.clone()));
                        i += 1;
                    }
                }
                (None, _) => {}
            }
            continue;
        }
        // Short cluster.
        let body = a.strip_prefix('-').unwrap_or(a);
        for (pos, c) in body.char_indices() {
            let (canon, kind) = spec
                .short_opt(c)
                .map_or((None, Value::No), |(n, k)| (Some(n), k));
            let name = canon.map_or_else(|| c.to_string(), str::to_owned);
            let rest = &body[pos + c.len_utf8()..];
            match kind {
                Value::No => {
                    p.flags.insert(name);
                }
                Value::Opt => {
                    if !rest.is_empty() {
                        p.options.push((name.clone(), rest.to_owned()));
                    }
                    p.flags.insert(name);
                    break;
                }
                Value::Req => {
                    if !rest.is_empty() {
                        p.options.push((name.clone(), rest.to_owned()));
                    } else if let Some(v) = args.get(i) {
                        p.options.push((name.clone(), v.clone()));
                        i += 1;
                    }
                    p.flags.insert(name);
                    break;
                }
            }
        }
    }
    p
}

fn is_signal(s: &str) -> bool {
    !s.is_empty()
        && (s.bytes().all(|b| b.is_ascii_digit())
            || s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn value_options_do_not_become_operands() {
        let p = parse("kubectl", &args("-n prod delete ns x"));
        assert_eq!(p.operands, ["delete", "ns", "x"]);
        assert_eq!(p.options, [("namespace".to_owned(), "prod".to_owned())]);
        let p = parse("mysql", &args("-u root -psecret -e drop db"));
        assert_eq!(
            p.options,
            [
                ("user".to_owned(), "root".to_owned()),
                ("password".to_owned(), "secret".to_owned()),
                ("execute".to_owned(), "drop".to_owned())
            ]
        );
        assert_eq!(p.operands, ["db"]);
        let p = parse(
            "terraform",
            &args("destroy -auto-approve -target=a.b -var x=1"),
        );
        assert!(p.flags.contains("auto-approve"));
        assert_eq!(p.operands, ["destroy"]);
        assert_eq!(p.options.len(), 2);
    }

    #[test]
    fn signals_and_tar_clusters() {
        let p = parse("kill", &args("-9 123"));
        assert_eq!(p.options, [("signal".to_owned(), "9".to_owned())]);
        let p = parse("tar", &args("xzf a.tgz -C /srv"));
        assert!(p.flags.contains("extract"));
        assert_eq!(
            p.options,
            [
                ("file".to_owned(), "a.tgz".to_owned()),
                ("directory".to_owned(), "/srv".to_owned())
            ]
        );
    }
}
