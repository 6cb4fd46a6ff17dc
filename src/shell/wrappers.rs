//! From the words of one simple command to invocations: unwrapping `sudo`, `env`, `xargs`,
//! `find -exec`, `bash -c`, `ssh host '…'`, interpreter one-liners, …; then flag normalisation
//! and target resolution for the real program.

use super::flags;
use super::interp::{self, Action};
use super::paths;
use super::walk::{self, assignment_name, Frame, Out, State};
use super::word::Word;
use super::{Invocation, Problem, Redirect, Target};

/// One simple command, its words expanded.
#[derive(Debug, Default)]
pub(crate) struct RawCmd {
    /// Program word and arguments.
    pub words: Vec<Word>,
    /// `NAME=value` before the program word.
    pub assigns: Vec<(String, Word)>,
    pub redirects: Vec<Redirect>,
    pub stdin: Option<String>,
    pub stdin_file: Option<String>,
    /// Stdin comes from a pipe (known or not).
    pub piped_stdin: bool,
    /// The pipe into stdin carries path names found under known roots (`find ROOT … |`).
    pub stdin_found: Option<Found>,
    pub text: String,
}

/// Settings accumulated while unwrapping.
struct Acc {
    frame: Frame,
    env: Vec<(String, String)>,
    dynamic: bool,
    /// Working directory override (`env -C`, `sudo -D`, inside a container: unknown).
    cwd: Option<Option<String>>,
    /// What the operands supplied at run time are paths under, when that is known.
    runtime: Option<Runtime>,
}

/// Path names found under known roots: what `find ROOT …` writes, what its `{}` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// The search roots, resolved.
    pub roots: Vec<Target>,
    /// The working directory relative roots (`find .`) were resolved in: the names found are
    /// relative to it. `None` when every root is absolute.
    pub relative_to: Option<Option<String>>,
    /// Which of the files under the roots are found (`-name '*.core'`), when it can be read.
    pub filter: Option<super::findexpr::FindExpr>,
}

impl Found {
    /// How the names found under `root` start as they are written: relative to the directory
    /// relative roots were resolved in (`.`, `sub`), else the root itself.
    pub(crate) fn written(&self, root: &str) -> String {
        let root = root.trim_end_matches('/');
        match &self.relative_to {
            Some(Some(dir)) => {
                let dir = dir.trim_end_matches('/');
                if root == dir {
                    ".".to_owned()
                } else {
                    root.strip_prefix(dir)
                        .and_then(|r| r.strip_prefix('/'))
                        .unwrap_or(root)
                        .to_owned()
                }
            }
            _ => root.to_owned(),
        }
    }
}

/// Operands supplied at run time that are paths under known roots: `{}` in `find ROOT -exec …`,
/// what `find ROOT … | xargs …` appends.
#[derive(Debug, Clone)]
struct Runtime {
    found: Found,
    /// The word that stands for one path (`{}`, `xargs -I %`); `None` when the paths are
    /// appended after the words (`xargs rm`).
    placeholder: Option<String>,
}

/// Stands for one path found, while finding which operands are targets.
const FOUND: &str = "\u{1}found";

/// Builds the invocations of `cmd` into `out`, updating `state` for `cd` and `export`.
pub(crate) fn build(cmd: RawCmd, state: &mut State, frame: &Frame, out: &mut Out) {
    let env = cmd
        .assigns
        .iter()
        .map(|(n, w)| (n.clone(), w.value.clone()))
        .collect();
    let mut acc = Acc {
        frame: frame.clone(),
        env,
        dynamic: false,
        cwd: None,
        runtime: None,
    };
    let words = cmd.words.clone();
    unwrap(&words, &cmd, &mut acc, state, out, true);
}

fn basename(s: &str) -> &str {
    let s = s.trim_start_matches('\\');
    s.rsplit('/').next().unwrap_or(s)
}

fn all_known(ws: &[Word]) -> bool {
    ws.iter().all(|w| w.known)
}

fn join(ws: &[Word]) -> String {
    ws.iter()
        .map(|w| w.value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Options of a prefix wrapper, up to its command. `short_req` / `long_req` take a value.
/// Returns the options (name, value) and the index of the first word after them.
fn options<'w>(
    ws: &'w [Word],
    short_req: &str,
    long_req: &[&str],
) -> (Vec<(String, Option<&'w str>)>, usize) {
    let mut opts = Vec::new();
    let mut i = 1;
    while let Some(w) = ws.get(i) {
        let a = w.value.as_str();
        if a == "--" {
            return (opts, i + 1);
        }
        if !a.starts_with('-') || a == "-" {
            if a == "-" {
                opts.push(("-".to_owned(), None));
                i += 1;
                continue;
            }
            break;
        }
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => opts.push((n.to_owned(), Some(v))),
                None if long_req.contains(&long) => {
                    opts.push((long.to_owned(), ws.get(i).map(|w| w.value.as_str())));
                    i += 1;
                }
                None => opts.push((long.to_owned(), None)),
            }
            continue;
        }
        for (pos, c) in a[1..].char_indices() {
            if short_req.contains(c) {
                let rest = &a[1 + pos + c.len_utf8()..];
                if rest.is_empty() {
                    opts.push((c.to_string(), ws.get(i).map(|w| w.value.as_str())));
                    i += 1;
                } else {
                    opts.push((c.to_string(), Some(rest)));
                }
                break;
            }
            opts.push((c.to_string(), None));
        }
    }
    (opts, i.min(ws.len()))
}

fn opt<'a>(opts: &[(String, Option<&'a str>)], names: &[&str]) -> Option<&'a str> {
    opts.iter()
        .rev()
        .find(|(n, _)| names.contains(&n.as_str()))
        .and_then(|(_, v)| *v)
}

fn has(opts: &[(String, Option<&str>)], names: &[&str]) -> bool {
    opts.iter().any(|(n, _)| names.contains(&n.as_str()))
}

/// Unwraps `ws` (program word first). `top` is true until a wrapper has been consumed.
fn unwrap(ws: &[Word], cmd: &RawCmd, acc: &mut Acc, state: &mut State, out: &mut Out, top: bool) {
    let Some(first) = ws.first() else { return };
    let prog = basename(&first.value).to_owned();
    let prefix = |acc: &mut Acc, via: &str, skip: usize| -> bool {
        if skip >= ws.len() {
            return false;
        }
        acc.frame.via.push(via.to_owned());
        true
    };
    let next = |acc: &mut Acc, via: &str, skip: usize, state: &mut State, out: &mut Out| {
        if prefix(acc, via, skip) {
            unwrap(&ws[skip..], cmd, acc, state, out, false);
            true
        } else {
            false
        }
    };
    match prog.as_str() {
        "sudo" | "doas" => {
            let (o, k) = options(
                ws,
                if prog == "sudo" { "ugCDprtUTh" } else { "uC" },
                &[
                    "user",
                    "group",
                    "chdir",
                    "close-from",
                    "prompt",
                    "role",
                    "type",
                    "other-user",
                    "command-timeout",
                    "host",
                ],
            );
            let user = opt(&o, &["u", "user"]).unwrap_or("root").to_owned();
            if let Some(d) = opt(&o, &["D", "chdir"]) {
                acc.cwd = Some(paths::resolve(d, state.cwd.as_deref()));
            }
            if k < ws.len() {
                acc.frame.run_as = Some(user);
            }
            if next(acc, &prog, k, state, out) {
                return;
            }
        }
        "env" => {
            let (o, mut k) = options(ws, "uCS", &["unset", "chdir", "split-string"]);
            if has(&o, &["i", "ignore-environment", "-"]) {
                acc.env.clear();
            }
            if let Some(d) = opt(&o, &["C", "chdir"]) {
                acc.cwd = Some(paths::resolve(d, state.cwd.as_deref()));
            }
            while let Some((n, v)) = ws.get(k).and_then(|w| assignment_name(&w.value)) {
                acc.env.push((n.to_owned(), v.to_owned()));
                k += 1;
            }
            if let Some(s) = opt(&o, &["S", "split-string"]) {
                let mut words: Vec<Word> = super::scan::scan(s)
                    .into_iter()
                    .flatten()
                    .map(|t| super::word::expand(t, &state.scope()))
                    .collect();
                words.extend(ws[k..].iter().cloned());
                acc.frame.via.push("env".to_owned());
                unwrap(&words, cmd, acc, state, out, false);
                return;
            }
            if next(acc, "env", k, state, out) {
                return;
            }
        }
        "nice" | "ionice" | "nohup" | "stdbuf" | "time" | "timeout" | "chroot" | "builtin"
        | "exec" | "command" | "busybox" | "unbuffer" | "setsid" | "flock" | "chrt" | "taskset"
        | "pkexec" | "eatmydata" | "fakeroot" | "nocache" | "torsocks" | "systemd-run"
        | "unshare" | "strace" | "ltrace" => {
            let (short, long): (&str, &[&str]) = match prog.as_str() {
                "pkexec" => ("", &["user"]),
                "systemd-run" => (
                    "pEMHu",
                    &[
                        "unit",
                        "property",
                        "description",
                        "slice",
                        "uid",
                        "gid",
                        "working-directory",
                        "setenv",
                        "machine",
                        "host",
                        "nice",
                        "on-active",
                        "on-boot",
                        "on-calendar",
                    ],
                ),
                "unshare" => ("SGRw", &["setuid", "setgid", "root", "wd", "propagation"]),
                "strace" | "ltrace" => ("oepPsuIEXa", &["output", "trace", "signal", "attach"]),
                "nice" => ("n", &["adjustment"]),
                "ionice" => ("cnpPu", &["class", "classdata", "pid", "pgid", "uid"]),
                "stdbuf" => ("ioe", &["input", "output", "error"]),
                "time" => ("fo", &["format", "output"]),
                "timeout" => ("sk", &["signal", "kill-after"]),
                "chroot" => ("", &["userspec", "groups"]),
                "exec" => ("a", &[]),
                "flock" => ("wEc", &["timeout", "conflict-exit-code", "command"]),
                _ => ("", &[]),
            };
            let (o, mut k) = if prog == "busybox" || prog == "taskset" {
                (Vec::new(), 1)
            } else {
                options(ws, short, long)
            };
            if prog == "command" && has(&o, &["v", "V"]) {
                // `command -v rm` only looks the name up.
            } else {
                if prog == "timeout" || prog == "chroot" || prog == "taskset" || prog == "chrt" {
                    k += 1; // DURATION, NEWROOT, MASK, PRIORITY
                }
                if prog == "flock" {
                    if let Some(c) = opt(&o, &["c", "command"]) {
                        acc.frame.via.push("flock".to_owned());
                        script(c.to_owned(), true, cmd, acc, state, out);
                        return;
                    }
                    k += 1; // the lock file
                }
                if prog == "chroot" {
                    acc.cwd = Some(None);
                }
                if next(acc, &prog, k, state, out) {
                    return;
                }
            }
        }
        "xargs" | "parallel" => {
            let (o, k) = if prog == "xargs" {
                options(
                    ws,
                    "InPdaLsEl",
                    &[
                        "max-args",
                        "max-procs",
                        "arg-file",
                        "delimiter",
                        "max-chars",
                        "process-slot-var",
                    ],
                )
            } else {
                options(
                    ws,
                    "jSIX",
                    &[
                        "jobs", "sshlogin", "joblog", "results", "delay", "timeout", "tmpdir",
                    ],
                )
            };
            let end = ws[k..]
                .iter()
                .position(|w| w.value.starts_with(":::"))
                .map_or(ws.len(), |p| k + p);
            // `echo /x | xargs rm -rf`: the input is known, so are the operands.
            let delimiter = if has(&o, &["0", "null"]) {
                Some('\0')
            } else {
                opt(&o, &["d", "delimiter"]).and_then(|d| {
                    let mut c = d.chars();
                    match (c.next(), c.next()) {
                        (Some(x), None) => Some(x),
                        (Some('\\'), Some('n')) => Some('\n'),
                        (Some('\\'), Some('t')) => Some('\t'),
                        _ => None,
                    }
                })
            };
            let odd_delimiter = delimiter.is_none() && has(&o, &["d", "delimiter"]);
            if prog == "xargs"
                && k < end
                && !odd_delimiter
                && !has(&o, &["a", "arg-file", "E", "e", "eof"])
            {
                if let Some(input) = cmd.stdin.as_deref() {
                    let replace = opt(&o, &["I", "replace"])
                        .map(str::to_owned)
                        .or_else(|| has(&o, &["i"]).then(|| "{}".to_owned()));
                    let base = &ws[k..end];
                    let commands: Vec<Vec<Word>> = match &replace {
                        Some(r) => input
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(|line| {
                                base.iter()
                                    .map(|w| Word {
                                        value: w.value.replace(r.as_str(), line),
                                        ..w.clone()
                                    })
                                    .collect()
                            })
                            .collect(),
                        None => {
                            let mut c = base.to_vec();
                            let items: Vec<String> = match delimiter {
                                Some(d) => {
                                    let mut v: Vec<String> =
                                        input.split(d).map(str::to_owned).collect();
                                    // A final delimiter ends the last item; it adds none.
                                    if v.last()
                                        .is_some_and(|l| l.is_empty() || (d != '\n' && l == "\n"))
                                    {
                                        v.pop();
                                    }
                                    v
                                }
                                None => xargs_items(input),
                            };
                            c.extend(items.iter().map(|i| Word::literal(i)));
                            vec![c]
                        }
                    };
                    acc.frame.via.push(prog.clone());
                    for c in commands {
                        let mut sub = Acc {
                            frame: acc.frame.clone(),
                            env: acc.env.clone(),
                            dynamic: false,
                            cwd: acc.cwd.clone(),
                            runtime: None,
                        };
                        unwrap(&c, cmd, &mut sub, state, out, false);
                    }
                    return;
                }
            }
            acc.dynamic = true;
            // `find ROOT … | xargs rm`: what it appends are paths under ROOT.
            if let Some(found) = &cmd.stdin_found {
                if cmd.stdin.is_none()
                    && acc.runtime.is_none()
                    && !odd_delimiter
                    && !has(&o, &["a", "arg-file"])
                {
                    let placeholder = opt(&o, &["I", "replace"])
                        .map(str::to_owned)
                        .or_else(|| has(&o, &["i", "replace"]).then(|| "{}".to_owned()));
                    acc.runtime = Some(Runtime {
                        found: found.clone(),
                        placeholder,
                    });
                }
            }
            if k < end {
                acc.frame.via.push(prog.clone());
                unwrap(&ws[k..end], cmd, acc, state, out, false);
                return;
            }
        }
        "watch" => {
            let (_, k) = options(ws, "nqg", &["interval"]);
            if k < ws.len() {
                acc.frame.via.push("watch".to_owned());
                if all_known(&ws[k..]) {
                    script(join(&ws[k..]), false, cmd, acc, state, out);
                } else {
                    unknown_payload(
                        &prog,
                        "the watched command is not known before it runs",
                        out,
                    );
                }
                return;
            }
        }
        "su" | "runuser" => {
            let (o, k) = options(
                ws,
                "csgGwuCl",
                &[
                    "command",
                    "shell",
                    "group",
                    "supp-group",
                    "user",
                    "whitelist-environment",
                ],
            );
            let mut user = opt(&o, &["u", "user", "l"]).map(str::to_owned);
            let mut k = k;
            if user.is_none() {
                if let Some(w) = ws.get(k) {
                    user = Some(w.value.clone());
                    k += 1;
                }
            }
            let (o2, _) = options(
                &ws[k.saturating_sub(1).min(ws.len())..],
                "csgG",
                &["command", "shell"],
            );
            let command = opt(&o, &["c", "command"]).or_else(|| opt(&o2, &["c", "command"]));
            acc.frame.run_as = Some(user.unwrap_or_else(|| "root".to_owned()));
            if let Some(c) = command {
                acc.frame.via.push(prog.clone());
                script(c.to_owned(), false, cmd, acc, state, out);
                return;
            }
            if prog == "runuser" && has(&o, &["u", "user"]) {
                let (_, k) = options(ws, "ugGl", &["user", "group"]);
                if next(acc, "runuser", k, state, out) {
                    return;
                }
            }
        }
        "bash" | "sh" | "zsh" | "dash" | "ksh" | "mksh" | "ash" | "fish" => {
            let mut has_c = false;
            // `-s`: the commands come from stdin even when operands follow (they are `$1`…).
            let mut has_s = false;
            let mut k = 1;
            while let Some(w) = ws.get(k) {
                let a = w.value.as_str();
                if a == "--" || a == "-" {
                    k += 1;
                    break;
                }
                if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
                    k += 1;
                    if a.starts_with("--") {
                        if matches!(a, "--rcfile" | "--init-file") {
                            k += 1;
                        }
                        continue;
                    }
                    if a[1..].contains('c') && a.starts_with('-') {
                        has_c = true;
                    }
                    if a[1..].contains('s') && a.starts_with('-') {
                        has_s = true;
                    }
                    if a[1..].contains('o') || a[1..].contains('O') {
                        k += 1;
                    }
                    continue;
                }
                break;
            }
            let via = format!("{prog} -c");
            if has_c {
                match ws.get(k) {
                    Some(w) if w.known => {
                        acc.frame.via.push(via);
                        // `bash -c '"$@"' _ ls -la`: the words after the string are $0, $1, ….
                        // Under `find ROOT -exec` (or `xargs -I{}`), a parameter that is the
                        // placeholder is a path found under ROOT: the script is read once for
                        // each root, with that parameter a name under it.
                        let (stand_ins, placeholder) = match &acc.runtime {
                            Some(rt) => (found_stand_ins(rt, acc, state), rt.placeholder.clone()),
                            None => (vec![None], None),
                        };
                        let value =
                            |p: &Word, stand_in: &Option<Option<String>>| -> Option<String> {
                                match (stand_in, placeholder.as_deref()) {
                                    (Some(s), Some(ph)) if p.known && p.value.contains(ph) => {
                                        if p.value == ph || p.value.strip_prefix("./") == Some(ph) {
                                            s.clone()
                                        } else {
                                            None
                                        }
                                    }
                                    _ => p.known.then(|| p.value.clone()),
                                }
                            };
                        for stand_in in &stand_ins {
                            let mut st = state.clone();
                            let mut params: Vec<Option<String>> = ws
                                .get(k + 2..)
                                .unwrap_or(&[])
                                .iter()
                                .map(|p| value(p, stand_in))
                                .collect();
                            // `find ROOT | xargs sh -c 'rm "$@"' _`: the paths are appended.
                            if let (Some(s), None) = (stand_in, &placeholder) {
                                params.push(s.clone());
                            }
                            st.vars
                                .retain(|(n, _)| !n.bytes().all(|b| b.is_ascii_digit()));
                            st.arrays.retain(|(n, _)| n != "@");
                            if let Some(zero) = ws.get(k + 1) {
                                st.vars.push(("0".to_owned(), value(zero, stand_in)));
                            }
                            for (i, p) in params.iter().enumerate() {
                                st.vars.push(((i + 1).to_string(), p.clone()));
                            }
                            let all: Option<Vec<String>> = params.into_iter().collect();
                            st.arrays.push(("@".to_owned(), all));
                            script(w.value.clone(), false, cmd, acc, &st, out);
                        }
                    }
                    Some(w) => unknown_payload(
                        &prog,
                        &format!("the command string {} is not known before it runs", w.raw),
                        out,
                    ),
                    None => unknown_payload(&prog, "-c without a command string", out),
                }
                return;
            }
            let reads_stdin = k >= ws.len() || has_s;
            if reads_stdin && (cmd.piped_stdin || cmd.stdin.is_some()) {
                match &cmd.stdin {
                    Some(s) => {
                        acc.frame.via.push(prog.clone());
                        script(s.clone(), false, cmd, acc, state, out);
                    }
                    None => {
                        emit(ws, cmd, acc, state, out, top);
                        unknown_payload(&prog, "reads the commands to run from a pipe", out);
                    }
                }
                return;
            }
        }
        "eval" if ws.len() > 1 => {
            if all_known(&ws[1..]) {
                acc.frame.via.push("eval".to_owned());
                script(join(&ws[1..]), false, cmd, acc, state, out);
            } else {
                unknown_payload("eval", "its arguments are not known before it runs", out);
            }
            return;
        }
        "ssh" => {
            emit(ws, cmd, acc, state, out, top);
            ssh(ws, cmd, acc, out);
            return;
        }
        "find" => {
            find(ws, cmd, acc, state, out, top);
            return;
        }
        "kubectl" | "oc" | "docker" | "podman" => {
            if let Some((via, k)) = container_exec(&prog, ws) {
                emit(ws, cmd, acc, state, out, top);
                acc.cwd = Some(None);
                acc.frame.via.push(via);
                unwrap(&ws[k..], cmd, acc, state, out, false);
                return;
            }
        }
        p if interp::language(p).is_some() => {
            emit(ws, cmd, acc, state, out, top);
            interpreter(p, ws, cmd, acc, state, out);
            return;
        }
        _ => {}
    }
    emit(ws, cmd, acc, state, out, top);
}

/// The items `xargs` reads from `input`: blank-separated, with its quotes and backslashes.
fn xargs_items(input: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                have = true;
            }
            (None, '\\') => {
                cur.extend(chars.next());
                have = true;
            }
            (None, c) if c.is_whitespace() => {
                if have || !cur.is_empty() {
                    items.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if have || !cur.is_empty() {
        items.push(cur);
    }
    items
}

/// `kubectl exec POD -- cmd`, `docker exec CONTAINER cmd`: the via label and the command index.
fn container_exec(prog: &str, ws: &[Word]) -> Option<(String, usize)> {
    if prog == "kubectl" || prog == "oc" {
        let dd = ws.iter().position(|w| w.value == "--")?;
        let p = flags::parse(
            prog,
            &ws[1..dd]
                .iter()
                .map(|w| w.value.clone())
                .collect::<Vec<_>>(),
        );
        if p.operands.first().map(String::as_str) != Some("exec") || dd + 1 >= ws.len() {
            return None;
        }
        let pod = p.operands.get(1).cloned().unwrap_or_default();
        return Some((format!("{prog} exec {pod}"), dd + 1));
    }
    let e = ws.iter().position(|w| w.value == "exec")?;
    if e != 1 {
        return None;
    }
    let (_, k) = options(
        &ws[e..],
        "euw",
        &["env", "user", "workdir", "env-file", "detach-keys"],
    );
    let container = ws.get(e + k)?;
    if e + k + 1 >= ws.len() {
        return None;
    }
    Some((format!("{prog} exec {}", container.value), e + k + 1))
}

fn unknown_payload(program: &str, reason: &str, out: &mut Out) {
    out.problem(Problem::UnknownPayload {
        program: program.to_owned(),
        reason: reason.to_owned(),
    });
}

/// What a path found at run time (`{}`) stands for in a shell script's parameters: for each
/// root, `Some(Some("ROOT/{}"))` (a name under it) or `Some(None)` (not known before it runs).
fn found_stand_ins(rt: &Runtime, acc: &Acc, state: &State) -> Vec<Option<Option<String>>> {
    let cwd = acc.cwd.clone().unwrap_or_else(|| state.cwd.clone());
    match &rt.found.relative_to {
        Some(dir) if *dir != cwd => return vec![Some(None)],
        _ => {}
    }
    let stand_ins: Vec<_> = rt
        .found
        .roots
        .iter()
        .map(|t| match t {
            Target::Path(p) => Some(Some(format!("{}/{{}}", p.trim_end_matches('/')))),
            Target::Unknown(_) => Some(None),
        })
        .collect();
    if stand_ins.is_empty() {
        vec![Some(None)]
    } else {
        stand_ins
    }
}

/// Analyses a script string reached through the wrappers in `acc`.
fn script(text: String, _keep: bool, cmd: &RawCmd, acc: &Acc, state: &State, out: &mut Out) {
    let _ = cmd;
    let mut sub = State {
        cwd: acc.cwd.clone().unwrap_or_else(|| state.cwd.clone()),
        ..state.clone()
    };
    // A new shell process has only the environment: the interactive shell's unexported
    // variables are unset there (a wrapper's own assignments, `env X=…`, follow).
    for n in std::mem::take(&mut sub.unexported) {
        sub.vars.push((n, Some(String::new())));
    }
    sub.vars
        .extend(acc.env.iter().map(|(n, v)| (n.clone(), Some(v.clone()))));
    let frame = Frame {
        depth: acc.frame.depth + 1,
        ..acc.frame.clone()
    };
    walk::analyze_text(&text, &mut sub, &frame, out);
}

fn ssh(ws: &[Word], _cmd: &RawCmd, acc: &Acc, out: &mut Out) {
    let (o, k) = options(ws, "pilOFJLRDbcEemQSWwB", &[]);
    let Some(host_word) = ws.get(k) else { return };
    let (user, host) = match host_word.value.split_once('@') {
        Some((u, h)) => (Some(u.to_owned()), h.to_owned()),
        None => (opt(&o, &["l"]).map(str::to_owned), host_word.value.clone()),
    };
    // The ssh invocation itself names the host.
    if let Some(inv) = out.invocations.last_mut() {
        if inv.program == "ssh" {
            inv.remote_host = Some(host.clone());
        }
    }
    let rest = &ws[k + 1..];
    if rest.is_empty() {
        return;
    }
    if !all_known(rest) {
        unknown_payload("ssh", "the remote command is not known before it runs", out);
        return;
    }
    let mut frame = acc.frame.clone();
    frame.via.push(format!("ssh {host}"));
    frame.remote_host = Some(host);
    frame.run_as = user;
    frame.depth += 1;
    let mut remote = State::default();
    walk::analyze_text(&join(rest), &mut remote, &frame, out);
}

/// The search roots of `find` (`ws`, program first), resolved in `cwd`, and the index of the
/// first word after them.
fn find_roots(ws: &[Word], cwd: Option<&str>) -> (Found, usize) {
    let mut i = 1;
    let mut follows = false;
    while let Some(w) = ws.get(i) {
        match w.value.as_str() {
            "-H" | "-L" => {
                follows = true;
                i += 1;
            }
            "-P" => i += 1,
            "-D" => i += 2,
            v if v.starts_with("-O") => i += 1,
            _ => break,
        }
    }
    let roots_start = i.min(ws.len());
    while let Some(w) = ws.get(i) {
        if w.value.starts_with('-') || matches!(w.value.as_str(), "(" | "!" | ")" | ",") {
            break;
        }
        i += 1;
    }
    let dot = [Word::literal(".")];
    let root_words = match &ws[roots_start..i.min(ws.len())] {
        [] => &dot[..],
        words => words,
    };
    let relative = root_words.iter().any(|w| !w.value.starts_with('/'));
    let found = Found {
        roots: root_words
            .iter()
            .filter(|w| !paths::names_nothing(w))
            .map(|w| paths::target(w, cwd))
            .collect(),
        relative_to: relative.then(|| cwd.map(str::to_owned)),
        filter: (!follows)
            .then(|| super::findexpr::FindExpr::parse(&ws[i.min(ws.len())..]))
            .flatten(),
    };
    (found, i.min(ws.len()))
}

/// Programs that write some of the lines they read, unchanged, when given these words
/// (`grep -v '\.keep$'`, `sort -u`, `head -n 20`): path names piped through them are still
/// path names found. Anything that could cut, join or prefix lines, or read files, is not one.
fn keeps_lines(ws: &[Word]) -> bool {
    let Some((first, rest)) = ws.split_first() else {
        return false;
    };
    if !first.known || !ws.iter().all(|w| w.known) {
        return false;
    }
    let args: Vec<&str> = rest.iter().map(|w| w.value.as_str()).collect();
    match first.value.as_str() {
        "grep" | "egrep" | "fgrep" => {
            // Filtering options only; the pattern, or `-e`/`-f` ones; no file operands.
            let mut given = false;
            let mut operands = 0;
            let mut k = 0;
            while let Some(a) = args.get(k) {
                match *a {
                    "-e" | "--regexp" | "-f" | "--file" => {
                        given = true;
                        k += 1;
                    }
                    a if a.starts_with("--regexp=") || a.starts_with("--file=") => given = true,
                    "--invert-match" | "--ignore-case" | "--word-regexp" | "--line-regexp"
                    | "--extended-regexp" | "--fixed-strings" | "--basic-regexp"
                    | "--perl-regexp" | "--null-data" | "--no-messages" => {}
                    a if a.starts_with('-') && a.len() > 1 && !a.starts_with("--") => {
                        if !a[1..].bytes().all(|b| b"viwxEFGPzs".contains(&b)) {
                            return false;
                        }
                    }
                    a if a.starts_with('-') && a.len() > 1 => return false,
                    _ => operands += 1,
                }
                k += 1;
            }
            operands == usize::from(!given)
        }
        "sort" => args.iter().all(|a| {
            a.starts_with('-')
                && !a.starts_with("-o")
                && !a.starts_with("--output")
                && !a.starts_with("--files0-from")
        }),
        "uniq" => args.iter().all(|a| {
            matches!(
                *a,
                "-u" | "-d"
                    | "-i"
                    | "-z"
                    | "--unique"
                    | "--repeated"
                    | "--ignore-case"
                    | "--zero-terminated"
            )
        }),
        "head" | "tail" => {
            let mut k = 0;
            while let Some(a) = args.get(k) {
                match *a {
                    "-n" | "--lines" => k += 1,
                    a if a.starts_with("--lines=") || a == "-z" || a == "--zero-terminated" => {}
                    a if a.starts_with("-n") && a.len() > 2 => {}
                    // `head -5`, `tail -20`
                    a if a.len() > 1
                        && a[1..].bytes().all(|b| b.is_ascii_digit())
                        && a.starts_with('-') => {}
                    _ => return false,
                }
                k += 1;
            }
            true
        }
        "tac" | "shuf" => args.is_empty(),
        // Line ends to NULs and back: the names stay whole.
        "tr" => {
            let sep = |a: &str| matches!(a, "\\n" | "\\0" | "\\000" | "\\012");
            matches!(args[..], [a, b] if sep(a) && sep(b))
        }
        _ => false,
    }
}

/// What `ws` (a simple command, program first) writes into a pipe, when that is path names
/// found under known roots: a `find` that only prints them (`-print`, `-print0`, the default),
/// or a filter of such names (`keeps_lines`). `None` when it could write anything else.
pub(crate) fn found_output(ws: &[Word], cmd: &RawCmd, cwd: Option<&str>) -> Option<Found> {
    let first = ws.first()?;
    if cmd.redirects.iter().any(|r| r.fd == 1) {
        return None;
    }
    if first.known && basename(&first.value) == "find" && cmd.assigns.is_empty() {
        let (found, after) = find_roots(ws, cwd);
        // A word not known before it runs is only a test's value (`-name "$1"`): it could be
        // an action otherwise.
        let prints_other = ws.iter().enumerate().skip(after).any(|(k, w)| {
            (!w.known && (!ws[k - 1].known || !ws[k - 1].value.starts_with('-')))
                || matches!(
                    w.value.as_str(),
                    "-exec"
                        | "-execdir"
                        | "-ok"
                        | "-okdir"
                        | "-printf"
                        | "-fprintf"
                        | "-ls"
                        | "-fls"
                )
        });
        return (!prints_other).then_some(found);
    }
    if first.known && basename(&first.value) == "ls" && cmd.assigns.is_empty() {
        return ls_output(ws, cwd);
    }
    let found = cmd.stdin_found.clone()?;
    keeps_lines(ws).then_some(found)
}

/// `ls` with options that only choose, order or mark names (`-t`, `-1`, `-d`, `-p`) and
/// relative operands that stay below the working directory (`*.log`, `build/`): it writes names
/// relative to the working directory, each a path under it.
fn ls_output(ws: &[Word], cwd: Option<&str>) -> Option<Found> {
    let mut options_done = false;
    for w in &ws[1..] {
        if !w.known {
            return None;
        }
        let v = w.value.as_str();
        if !options_done && v == "--" {
            options_done = true;
        } else if !options_done && v.starts_with('-') && v.len() > 1 {
            let ok = match v.strip_prefix("--") {
                Some(long) => matches!(
                    long,
                    "all"
                        | "almost-all"
                        | "directory"
                        | "reverse"
                        | "quote-name"
                        | "literal"
                        | "indicator-style=slash"
                        | "group-directories-first"
                ),
                None => v[1..].bytes().all(|b| b"1aAdprtQSXUcuvfFCxN".contains(&b)),
            };
            if !ok {
                return None;
            }
        } else if v.starts_with('/') || v.starts_with('~') || v.split('/').any(|c| c == "..") {
            return None;
        }
    }
    Some(Found {
        roots: vec![paths::target(&Word::literal("."), cwd)],
        relative_to: Some(cwd.map(str::to_owned)),
        filter: None,
    })
}

fn find(ws: &[Word], cmd: &RawCmd, acc: &mut Acc, state: &mut State, out: &mut Out, top: bool) {
    let cwd = acc.cwd.clone().unwrap_or_else(|| state.cwd.clone());
    let (found, mut i) = find_roots(ws, cwd.as_deref());
    let roots = found.roots.clone();
    // Split out -exec … ; segments.
    let mut kept: Vec<Word> = ws[..i.min(ws.len())].to_vec();
    let mut execs: Vec<(String, &[Word])> = Vec::new();
    while let Some(w) = ws.get(i) {
        if matches!(w.value.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
            let start = i + 1;
            let mut j = start;
            while let Some(x) = ws.get(j) {
                if x.value == ";" || (x.value == "+" && j > start && ws[j - 1].value == "{}") {
                    break;
                }
                j += 1;
            }
            execs.push((w.value.clone(), &ws[start..j.min(ws.len())]));
            kept.push(w.clone());
            i = j + 1;
        } else {
            kept.push(w.clone());
            i += 1;
        }
    }
    let before = out.invocations.len();
    emit(&kept, cmd, acc, state, out, top);
    if let Some(inv) = out.invocations.get_mut(before) {
        if inv.program == "find" {
            inv.targets = roots.clone();
            inv.selects.clone_from(&found.filter);
        }
    }
    // Every root named nothing (`find "$UNSET" …`): find fails on each and runs nothing.
    if roots.is_empty() {
        return;
    }
    for (_, words) in execs {
        if words.is_empty() {
            continue;
        }
        let mut sub = Acc {
            frame: acc.frame.clone(),
            env: acc.env.clone(),
            dynamic: true,
            cwd: acc.cwd.clone(),
            runtime: Some(Runtime {
                found: found.clone(),
                placeholder: Some("{}".to_owned()),
            }),
        };
        sub.frame.via.push("find".to_owned());
        let inner = RawCmd {
            words: words.to_vec(),
            redirects: Vec::new(),
            text: cmd.text.clone(),
            ..RawCmd::default()
        };
        unwrap(words, &inner, &mut sub, state, out, false);
    }
}

fn interpreter(p: &str, ws: &[Word], cmd: &RawCmd, acc: &Acc, state: &State, out: &mut Out) {
    let Some(lang) = interp::language(p) else {
        return;
    };
    let code_flags: &[&str] = match lang {
        interp::Lang::Python => &["-c"],
        interp::Lang::Node => &["-e", "--eval", "-p", "--print"],
        _ => &["-e", "-E"],
    };
    let mut code: Option<&Word> = None;
    for (k, w) in ws.iter().enumerate().skip(1) {
        let v = w.value.as_str();
        if code_flags.contains(&v) {
            code = ws.get(k + 1);
            break;
        }
        // Clustered: `python3 -Bc 'code'`, `perl -ne '…'`.
        if v.starts_with('-') && !v.starts_with("--") && v.len() > 2 {
            // By character: `perl -i€ -e …` ends in a multi-byte one.
            let last = v.chars().next_back().map(String::from).unwrap_or_default();
            if code_flags.iter().any(|f| f[1..] == last) {
                code = ws.get(k + 1);
                break;
            }
        }
        if !v.starts_with('-') {
            break;
        }
    }
    let Some(code) = code else { return };
    let via = format!(
        "{p} {}",
        if lang == interp::Lang::Python {
            "-c"
        } else {
            "-e"
        }
    );
    if !code.known {
        unknown_payload(p, "the program text is not known before it runs", out);
        return;
    }
    for action in interp::scan(lang, &code.value) {
        let mut sub = Acc {
            frame: acc.frame.clone(),
            env: acc.env.clone(),
            dynamic: false,
            cwd: acc.cwd.clone(),
            runtime: None,
        };
        sub.frame.via.push(via.clone());
        match action {
            Action::Shell(s) => script(s, false, cmd, &sub, state, out),
            Action::Argv(args) => {
                let words: Vec<Word> = args.iter().map(|a| Word::literal(a)).collect();
                let mut st = state.clone();
                unwrap(&words, cmd, &mut sub, &mut st, out, false);
            }
            Action::Remove { path, recursive } => {
                let mut words = vec![Word::literal("rm")];
                if recursive {
                    words.push(Word::literal("-rf"));
                }
                words.push(Word::literal(&path));
                let mut st = state.clone();
                emit(&words, cmd, &mut sub, &mut st, out, false);
            }
            Action::Dynamic(what) => unknown_payload(
                p,
                &format!("{what} is called with an argument not known before it runs"),
                out,
            ),
        }
    }
}

/// Pushes the invocation of `ws` (the real program), then applies `cd`/`export` to `state`.
fn emit(ws: &[Word], cmd: &RawCmd, acc: &mut Acc, state: &mut State, out: &mut Out, top: bool) {
    let standing = acc
        .runtime
        .is_none()
        .then(|| found_stand_in(ws, state))
        .flatten();
    let (ws, local) = match standing {
        Some((words, rt)) => (std::borrow::Cow::Owned(words), Some(rt)),
        None => (std::borrow::Cow::Borrowed(ws), None),
    };
    let ws: &[Word] = &ws;
    let runtime = acc.runtime.as_ref().or(local.as_ref());
    let Some(first) = ws.first() else { return };
    let program = if first.known {
        basename(&first.value).to_owned()
    } else {
        first.value.clone()
    };
    let args: Vec<String> = ws[1..].iter().map(|w| shown(&w.value)).collect();
    let parsed = flags::parse(&program, &args);
    let cwd = acc.cwd.clone().unwrap_or_else(|| state.cwd.clone());
    let program_unknown = !first.known;
    let file_targets = |words: &[Word], parsed: &flags::Parsed| -> Vec<Target> {
        if program_unknown {
            // Any program: any operand could be a file it changes.
            words
                .iter()
                .filter(|w| !w.value.starts_with('-') && !paths::names_nothing(w))
                .map(|w| paths::target(w, cwd.as_deref()))
                .collect()
        } else {
            targets(&program, parsed, words, cwd.as_deref())
        }
    };
    let mut targets = file_targets(&ws[1..], &parsed);
    let mut runtime_roots: Vec<Target> = Vec::new();
    let mut selects = None;
    if let Some(rt) = runtime {
        // Each path found stands in as FOUND: `{}`, `./{}` and `{}.bak` name it (or a name
        // next to it); `xargs rm` appends it.
        let ph = rt.placeholder.as_deref();
        let starts = |v: &str, ph: &str| {
            v.starts_with(ph) || v.strip_prefix("./").is_some_and(|r| r.starts_with(ph))
        };
        let mut words: Vec<Word> = ws[1..]
            .iter()
            .map(|w| match ph {
                Some(ph) if w.known && starts(&w.value, ph) => Word::literal(FOUND),
                _ => w.clone(),
            })
            .collect();
        if ph.is_none() {
            words.push(Word::literal(FOUND));
        }
        let values: Vec<String> = words.iter().map(|w| w.value.clone()).collect();
        // Names found relative to another directory than this one's: not known here.
        let roots = match &rt.found.relative_to {
            Some(dir) if *dir != cwd => vec![Target::Unknown(
                "(paths found relative to another directory)".to_owned(),
            )],
            _ => rt.found.roots.clone(),
        };
        selects.clone_from(&rt.found.filter);
        let found = file_targets(&words, &flags::parse(&program, &values));
        targets = Vec::with_capacity(found.len());
        runtime_roots.clone_from(&roots);
        let mut placed = false;
        for t in found {
            match &t {
                Target::Path(p) | Target::Unknown(p) if p.ends_with(FOUND) => {
                    if !placed {
                        targets.extend(roots.iter().cloned());
                        placed = true;
                    }
                }
                // `/srv/{}` (with `-execdir`, `xargs -I %`): a name made under that directory.
                Target::Path(p) if ph.is_some_and(|ph| p.contains(ph)) => {
                    let at = ph.map_or(0, |ph| p.find(ph).unwrap_or(0));
                    let dir = &p[..p[..at].rfind('/').unwrap_or(0)];
                    let dir = Target::Path(if dir.is_empty() {
                        "/".to_owned()
                    } else {
                        dir.to_owned()
                    });
                    runtime_roots.push(dir.clone());
                    targets.push(dir);
                }
                _ => targets.push(t),
            }
        }
    }
    let stdin_file = cmd.stdin_file.clone();
    let statements = crate::sql::classify(&crate::sql::ClientCall {
        program: &program,
        args: &args,
        stdin: cmd.stdin.as_deref(),
        stdin_file: stdin_file.as_deref(),
        // Fed by a pipe whose text is not known (`curl … | psql`), or by the line's own stdin
        // when that is data the guard cannot see.
        stdin_unknown: cmd.stdin.is_none()
            && stdin_file.is_none()
            && (cmd.piped_stdin || state.stdin_unknown),
        cwd: cwd.as_deref().unwrap_or("/"),
    });
    let inv = Invocation {
        program: program.clone(),
        program_word: first.raw.clone(),
        program_unknown,
        args,
        flags: parsed.flags,
        options: parsed.options,
        operands: parsed.operands,
        targets,
        via: acc.frame.via.clone(),
        remote_host: acc.frame.remote_host.clone(),
        run_as: acc.frame.run_as.clone(),
        env: acc.env.clone(),
        redirects: cmd.redirects.clone(),
        stdin: cmd.stdin.clone(),
        stdin_file,
        dynamic_operands: acc.dynamic || local.is_some(),
        runtime_roots,
        selects,
        statements,
        ansible: None,
        text: cmd.text.clone(),
    };
    out.invocations.push(inv);
    if top {
        apply_builtin(&program, &ws[1..], state);
    }
}

/// The words of `ws` with the stand-ins for paths found (`rm "$f"` in `find ROOT | while read
/// f`, `rm $(find ROOT …)`) made the placeholder of those paths, and what they stand for: the
/// first entry of [`State::found`] a word names.
fn found_stand_in(ws: &[Word], state: &State) -> Option<(Vec<Word>, Runtime)> {
    let mark = super::walk::FOUND_MARK;
    let k: usize = ws.iter().skip(1).find_map(|w| {
        let (_, rest) = w.value.split_once(mark)?;
        rest.split_once(mark)?.0.parse().ok()
    })?;
    let found = state.found.get(k)?.clone();
    let placeholder = format!("{mark}{k}{mark}");
    let prefixes: Vec<String> = found
        .roots
        .iter()
        .filter_map(|t| match t {
            Target::Path(p) => Some(format!("{}/{placeholder}", found.written(p))),
            Target::Unknown(_) => None,
        })
        .collect();
    let mut words: Vec<Word> = Vec::with_capacity(ws.len());
    for w in ws {
        let rest = prefixes
            .iter()
            .find_map(|p| w.value.strip_prefix(p.as_str()));
        let w = match rest {
            Some(rest) => Word {
                value: format!("{placeholder}{rest}"),
                ..w.clone()
            },
            None => w.clone(),
        };
        // One root per word: `$(find /a /b)` wrote both, they stand for one run-time operand.
        if words
            .last()
            .is_some_and(|l: &Word| l.value == w.value && l.raw == w.raw)
        {
            continue;
        }
        words.push(w);
    }
    Some((
        words,
        Runtime {
            found,
            placeholder: Some(placeholder),
        },
    ))
}

/// A word as shown and matched (`args`): a stand-in for a path found reads `ROOT/{}`.
pub(crate) fn shown(value: &str) -> String {
    let mark = super::walk::FOUND_MARK;
    if !value.contains(mark) {
        return value.to_owned();
    }
    let mut out = String::new();
    let mut parts = value.split(mark);
    if let Some(head) = parts.next() {
        out.push_str(head);
    }
    let mut inside = true;
    for part in parts {
        if inside {
            out.push_str("{}");
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

/// `cd`, `pushd`, `export X=…` and friends change what later commands on the line see.
fn apply_builtin(program: &str, args: &[Word], state: &mut State) {
    match program {
        "cd" | "pushd" => {
            let dir = args
                .iter()
                .find(|w| !w.value.starts_with('-') || w.value == "-");
            state.cwd = match dir {
                None => state.home.clone(),
                Some(w) if w.value == "-" || !w.known => None,
                Some(w) => paths::resolve(&w.value, state.cwd.as_deref()),
            };
        }
        "popd" => state.cwd = None,
        "export" | "declare" | "typeset" | "local" | "readonly" => {
            for w in args {
                if let Some((n, v)) = assignment_name(&w.value) {
                    state
                        .vars
                        .push((n.to_owned(), w.known.then(|| v.to_owned())));
                }
            }
        }
        "unset" => {
            for w in args.iter().filter(|w| !w.value.starts_with('-')) {
                state.vars.push((w.value.clone(), None));
            }
        }
        _ => {}
    }
}

/// The operands of `program` that name files it writes, removes or changes, resolved.
fn targets(program: &str, p: &flags::Parsed, args: &[Word], cwd: Option<&str>) -> Vec<Target> {
    let ops: Vec<&Word> = p
        .operand_idx
        .iter()
        .filter_map(|&k| args.get(k))
        .filter(|w| !paths::names_nothing(w))
        .collect();
    let t = |w: &Word| paths::target(w, cwd);
    let opt_targets = |names: &[&str]| -> Vec<Target> {
        p.options
            .iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| {
                let known = !v.contains('$') && !v.contains('`');
                t(&Word {
                    raw: v.clone(),
                    value: v.clone(),
                    known,
                    ..Word::default()
                })
            })
            .collect()
    };
    match program {
        "rm" | "rmdir" | "shred" | "unlink" | "truncate" | "tee" | "wipefs" | "fdisk"
        | "sfdisk" | "sgdisk" | "gdisk" | "cfdisk" | "mkswap" | "blkdiscard" | "srm" | "touch"
        | "setfacl" | "wipe" => ops.into_iter().map(t).collect(),
        "parted" => ops.first().map(|w| t(w)).into_iter().collect(),
        "mv" => {
            let mut v: Vec<Target> = ops.into_iter().map(t).collect();
            v.extend(opt_targets(&["target-directory"]));
            v
        }
        "cp" | "install" | "ln" | "rsync" | "scp" => {
            let mut v = opt_targets(&["target-directory"]);
            if v.is_empty() && ops.len() >= 2 {
                if let Some(last) = ops.last() {
                    v.push(t(last));
                }
            }
            v
        }
        "chmod" | "chown" | "chgrp" => {
            let skip = usize::from(!p.options.iter().any(|(n, _)| n == "reference"));
            ops.into_iter().skip(skip).map(t).collect()
        }
        // What dd writes (`of=`) first, then what it reads (`if=`).
        "dd" => ["of=", "if="]
            .iter()
            .flat_map(|key| {
                ops.iter().filter_map(move |w| {
                    let v = w.value.strip_prefix(key)?;
                    Some(Word {
                        raw: w.raw.clone(),
                        value: v.to_owned(),
                        known: w.known,
                        glob: w.glob,
                        subs: Vec::new(),
                        vanished: false,
                    })
                })
            })
            .map(|w| t(&w))
            .collect(),
        "tar" => opt_targets(&["file", "directory"]),
        p if p.starts_with("mkfs") || p.starts_with("mke2fs") => ops.into_iter().map(t).collect(),
        _ => Vec::new(),
    }
}
