//! Interpreters that read their program from standard input: `bash -s`, `sh`, `dash`, `zsh`
//! with no script operand, `python3 -`, `python3` and `perl` with no arguments, and so
//! `ssh host 'bash -s' < script`, which arrives at the login shell as `-c 'bash -s'`.
//!
//! When the guarded command is such an interpreter and the guard's own standard input is a pipe
//! or a file nobody has seen ([`super::stdin_unseen`]), the guard reads it first (at most
//! [`MAX_SCRIPT`] bytes), judges it, and then hands the same bytes on to the program through a
//! pipe ([`hand_on`]):
//!
//! - a shell script is analysed like a command line, and its commands join the decision and the
//!   record (reached through `bash -s`);
//! - a python or perl program is an unknown payload unless it is empty: the guard does not
//!   analyse those languages, so it fails closed;
//! - more than [`MAX_SCRIPT`] bytes, a read error, or another command on the line that could read
//!   the same input first: an unknown payload.

use crate::shell::{Analysis, Context, Invocation, Problem};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};

/// The most the guard reads of a program on standard input. More is an unknown payload.
pub const MAX_SCRIPT: usize = 1 << 20;

/// What kind of program an interpreter reads from standard input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A shell: the text is analysed as a script.
    Shell,
    /// Another language (python, perl): not analysed.
    Opaque,
}

/// What the guard read from its standard input for the program, to judge and to hand on.
#[derive(Debug, Default, Clone)]
pub struct Feed {
    /// The bytes read, exactly as they came (one past [`MAX_SCRIPT`] when `rest`).
    pub bytes: Vec<u8>,
    /// Whether more follows that was not read (over [`MAX_SCRIPT`]); handed on as it comes.
    pub rest: bool,
}

/// Whether `program args…` reads the program it runs from standard input, and what kind it is.
pub fn reads_program(program: &str, args: &[String]) -> Option<Kind> {
    let base = program.rsplit('/').next().unwrap_or(program);
    match base {
        "bash" | "sh" | "dash" | "zsh" | "ksh" | "mksh" | "ash" => {
            shell(args).then_some(Kind::Shell)
        }
        _ if is_python(base) => python(args).then_some(Kind::Opaque),
        _ if is_perl(base) => perl(args).then_some(Kind::Opaque),
        _ => None,
    }
}

fn is_python(base: &str) -> bool {
    base.strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn is_perl(base: &str) -> bool {
    base.strip_prefix("perl")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// A shell reads stdin unless `-c` gives the commands or an operand names a script file; `-s`
/// reads stdin whatever follows (the operands are `$1`…).
fn shell(args: &[String]) -> bool {
    let mut k = 0;
    let mut has_s = false;
    while let Some(a) = args.get(k) {
        let a = a.as_str();
        if a == "--" || a == "-" {
            k += 1;
            break;
        }
        if matches!(a, "--version" | "--help") {
            return false;
        }
        if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
            k += 1;
            if a.starts_with("--") {
                if matches!(a, "--rcfile" | "--init-file") {
                    k += 1;
                }
                continue;
            }
            let letters = &a[1..];
            if a.starts_with('-') && letters.contains('c') {
                return false;
            }
            if a.starts_with('-') && letters.contains('s') {
                has_s = true;
            }
            // `-o NAME`, `-O NAME`: the option's name is the next word.
            k += letters.chars().filter(|c| matches!(c, 'o' | 'O')).count();
            continue;
        }
        break;
    }
    has_s || k >= args.len()
}

/// python reads stdin with no script operand, or with `-` as the script; not with `-c`, `-m`.
fn python(args: &[String]) -> bool {
    let mut k = 0;
    while let Some(a) = args.get(k) {
        let a = a.as_str();
        if a == "-" {
            return true;
        }
        if a == "--" {
            return args.get(k + 1).is_none_or(|s| s == "-");
        }
        if matches!(a, "-V" | "--version" | "-h" | "--help" | "-VV") {
            return false;
        }
        if a.starts_with("--") {
            k += 1;
            continue;
        }
        if let Some(letters) = a.strip_prefix('-') {
            for (i, c) in letters.char_indices() {
                match c {
                    'c' | 'm' => return false,
                    // The value is the rest of the word or the next word.
                    'W' | 'X' | 'Q' => {
                        if i + 1 == letters.len() {
                            k += 1;
                        }
                        break;
                    }
                    _ => {}
                }
            }
            k += 1;
            continue;
        }
        return false;
    }
    true
}

/// perl reads stdin with no script operand, or with `-` as the script; not with `-e`/`-E`.
fn perl(args: &[String]) -> bool {
    let mut k = 0;
    while let Some(a) = args.get(k) {
        let a = a.as_str();
        if a == "-" {
            return true;
        }
        if a == "--" {
            return args.get(k + 1).is_none_or(|s| s == "-");
        }
        if matches!(a, "-v" | "-V" | "-h") {
            return false;
        }
        if let Some(letters) = a.strip_prefix('-') {
            for c in letters.chars() {
                match c {
                    'e' | 'E' => return false,
                    // These take the rest of the word as their value.
                    'M' | 'm' | 'I' | 'i' | 'D' | 'l' | 'x' | '0' | 'C' | 'd' | 'V' => break,
                    _ => {}
                }
            }
            k += 1;
            continue;
        }
        return false;
    }
    true
}

/// Commands that never read standard input: they may come before the interpreter on the line
/// (`cd /srv && bash -s`, Ansible's `echo BECOME-SUCCESS-…; python3`) without taking any of the
/// program.
const QUIET: &[&str] = &[
    "cd", "export", "set", "umask", "true", ":", "ulimit", "unset", "echo", "printf", "sleep",
];

/// The invocation of `analysis` that reads its program from the line's own standard input, if
/// one does: its index and kind. `Err` when the line could read that input some other way too.
fn reader(analysis: &Analysis) -> Option<Result<(usize, Kind), String>> {
    let found: Vec<(usize, Kind)> = analysis
        .invocations
        .iter()
        .enumerate()
        .filter(|(_, i)| i.stdin.is_none() && i.stdin_file.is_none())
        .filter_map(|(n, i)| reads_program(&i.program, &i.args).map(|k| (n, k)))
        .collect();
    let &(n, kind) = found.first()?;
    let reader = &analysis.invocations[n];
    if found.len() > 1 {
        return Some(Err(format!(
            "{} and another program of this line both read standard input",
            reader.program
        )));
    }
    // `ssh db2 'bash -s'`: ssh hands its stdin to the remote bash, it reads none itself.
    let through_ssh = reader.via.iter().any(|v| v.starts_with("ssh "));
    let other = analysis.invocations.iter().enumerate().find(|(m, i)| {
        *m != n && !QUIET.contains(&i.program.as_str()) && !(through_ssh && i.program == "ssh")
    });
    if let Some((_, i)) = other {
        return Some(Err(format!(
            "{} reads its commands from standard input, and {} may read some of it first",
            reader.program, i.program
        )));
    }
    Some(Ok((n, kind)))
}

/// This process's standard input, read with no buffer: what the guard does not read stays in the
/// pipe for the program (`std::io::stdin()` would keep up to 8 KiB more in its buffer).
pub struct RawStdin;

impl Read for RawStdin {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(usize::try_from(n).unwrap_or(0));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

/// Read at most [`MAX_SCRIPT`] bytes of `input` (and one more, to know), saying whether more
/// follows.
pub fn read_bounded(input: &mut impl Read) -> std::io::Result<Feed> {
    let mut bytes = Vec::new();
    input
        .by_ref()
        .take(MAX_SCRIPT as u64 + 1)
        .read_to_end(&mut bytes)?;
    // One byte past the bound says that more follows; it is kept, to be handed on with the rest.
    let rest = bytes.len() > MAX_SCRIPT;
    Ok(Feed { bytes, rest })
}

/// When `analysis` (of a command whose standard input nobody has seen) runs an interpreter that
/// reads its program from there: read it from `input`, add what it would do to `analysis`, and
/// return the bytes to hand on. `None`: nothing of the kind, `input` untouched.
pub fn judge(analysis: &mut Analysis, ctx: &Context, input: &mut impl Read) -> Option<Feed> {
    let found = reader(analysis)?;
    let (n, kind) = match found {
        Ok(f) => f,
        Err(reason) => {
            // Still read: the program gets the same bytes, but the guard cannot say which part.
            let program = analysis
                .invocations
                .iter()
                .find_map(|i| reads_program(&i.program, &i.args).map(|_| i.program.clone()));
            analysis.problems.push(Problem::UnknownPayload {
                program: program.unwrap_or_default(),
                reason,
            });
            return read_bounded(input).ok();
        }
    };
    let reader = analysis.invocations[n].clone();
    let unknown = |reason: String| Problem::UnknownPayload {
        program: reader.program.clone(),
        reason,
    };
    let feed = match read_bounded(input) {
        Ok(feed) => feed,
        Err(e) => {
            analysis.problems.push(unknown(format!(
                "reads its program from standard input, which cannot be read: {e}"
            )));
            return None;
        }
    };
    if feed.rest {
        analysis.problems.push(unknown(format!(
            "reads more than {} KiB of program from standard input; only that much is judged",
            MAX_SCRIPT / 1024
        )));
    }
    match kind {
        Kind::Opaque => {
            if !feed.bytes.iter().all(u8::is_ascii_whitespace) || feed.rest {
                analysis.problems.push(unknown(format!(
                    "reads a program of {} bytes from standard input; the guard does not analyse {}",
                    feed.bytes.len(),
                    reader.program
                )));
            }
        }
        Kind::Shell => match std::str::from_utf8(&feed.bytes) {
            Ok(text) => add_script(analysis, &reader, text, ctx),
            Err(_) => analysis.problems.push(unknown(
                "reads a script from standard input that is not valid UTF-8".into(),
            )),
        },
    }
    Some(feed)
}

/// The commands of `text`, run by `reader`, joined to `analysis` after it.
fn add_script(analysis: &mut Analysis, reader: &Invocation, text: &str, ctx: &Context) {
    // Inside the script, a program reading stdin reads the rest of the script or whatever the
    // sender added: not known.
    let ctx = Context {
        stdin_unknown: true,
        ..ctx.clone()
    };
    let script = crate::shell::analyze(text, &ctx);
    let mut via = reader.via.clone();
    via.push(via_label(reader));
    for mut inv in script.invocations {
        let mut v = via.clone();
        v.append(&mut inv.via);
        inv.via = v;
        if inv.remote_host.is_none() {
            inv.remote_host.clone_from(&reader.remote_host);
        }
        if inv.run_as.is_none() {
            inv.run_as.clone_from(&reader.run_as);
        }
        analysis.invocations.push(inv);
    }
    analysis.problems.extend(script.problems);
}

/// How the record names the interpreter a script went through: `bash -s`, `sh` (stdin).
fn via_label(reader: &Invocation) -> String {
    if reader.args.iter().any(|a| a == "-s") {
        format!("{} -s", reader.program)
    } else {
        format!("{} <stdin>", reader.program)
    }
}

/// Make `feed` (and, when it says so, the rest of standard input after it) the standard input
/// of what this process executes next: a pipe, fed by a writer process of its own that is not a
/// child of the program (it is reparented to init), so the program sees exactly the bytes the
/// guard judged, and the end of input after them.
pub fn hand_on(feed: &Feed) -> std::io::Result<()> {
    let (reader, writer) = nix::unistd::pipe()?;
    // SAFETY: the child branches only call async-signal-safe functions (fork, write, read,
    // close, _exit) on memory allocated before the fork, so a fork from a process with other
    // threads cannot deadlock in them.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => {
            drop(reader);
            // SAFETY: see above; the grandchild does the writing so that the program does not
            // inherit a child it never started.
            match unsafe { libc::fork() } {
                0 => {
                    // The writer must not keep the session's output open (sshd waits for it),
                    // nor stdin when there is nothing more to copy from it.
                    // SAFETY: close is async-signal-safe; these descriptors are not used here.
                    unsafe {
                        libc::close(1);
                        libc::close(2);
                        if !feed.rest {
                            libc::close(0);
                        }
                    }
                    let ok = write_all(&writer, &feed.bytes) && (!feed.rest || copy_rest(&writer));
                    // SAFETY: _exit is async-signal-safe and ends this process at once.
                    unsafe { libc::_exit(if ok { 0 } else { 1 }) }
                }
                // SAFETY: as above.
                _ => unsafe { libc::_exit(0) },
            }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(writer);
            let _ = nix::sys::wait::waitpid(child, None);
            nix::unistd::dup2(reader.as_raw_fd(), 0)?;
            Ok(())
        }
    }
}

fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid slice for its length; `fd` is open.
        let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        bytes = &bytes[usize::try_from(n).unwrap_or(0)..];
    }
    true
}

/// The part of standard input the guard did not read, copied on as it comes.
fn copy_rest(fd: &OwnedFd) -> bool {
    let mut buf = [0u8; 16384];
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 => return true,
            n if n < 0 => {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return false;
            }
            n => {
                if !write_all(fd, &buf[..usize::try_from(n).unwrap_or(0)]) {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(line: &str) -> Option<Kind> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        reads_program(&words[0], &words[1..])
    }

    #[test]
    fn which_interpreters_read_their_program_from_stdin() {
        for line in [
            "bash -s",
            "bash",
            "/bin/sh -s",
            "sh",
            "dash -e",
            "zsh",
            "bash -s -- a b",
            "bash -o pipefail",
            "bash -euxs arg",
            "bash --norc",
            "sh -",
        ] {
            assert_eq!(reads(line), Some(Kind::Shell), "{line}");
        }
        for line in [
            "python3 -",
            "python3",
            "python3 -u",
            "python3.11 -W ignore -",
            "perl",
            "perl -w",
            "perl -",
        ] {
            assert_eq!(reads(line), Some(Kind::Opaque), "{line}");
        }
        for line in [
            "bash -c ls",
            "bash script.sh",
            "bash -x script.sh",
            "sh -ec ls",
            "bash -o pipefail x.sh",
            "python3 -c print(1)",
            "python3 -m http.server",
            "python3 x.py",
            "python3 -W ignore x.py",
            "perl -e print",
            "perl -ne print",
            "perl x.pl",
            "perl -Mstrict x.pl",
            "bash --version",
            "python3 --version",
            "python3 -V",
            "perl -v",
            "ls",
            "bashful",
            "pythonista",
        ] {
            assert_eq!(reads(line), None, "{line}");
        }
    }

    fn judged(line: &str, stdin: &[u8]) -> (Analysis, Option<Feed>) {
        let ctx = Context {
            cwd: "/".into(),
            stdin_unknown: true,
            ..Context::default()
        };
        let mut a = crate::shell::analyze(line, &ctx);
        let feed = judge(&mut a, &ctx, &mut &stdin[..]);
        (a, feed)
    }

    #[test]
    fn a_shell_script_on_stdin_joins_the_analysis() {
        let (a, feed) = judged("bash -s", b"echo hi\nrm -rf /srv/data\n");
        let feed = feed.expect("read");
        assert_eq!(feed.bytes, b"echo hi\nrm -rf /srv/data\n");
        assert!(!feed.rest);
        let programs: Vec<&str> = a.invocations.iter().map(|i| i.program.as_str()).collect();
        assert_eq!(programs, ["bash", "echo", "rm"]);
        assert_eq!(a.invocations[2].via, ["bash -s"]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        let (a, _) = judged("sudo bash -s", b"rm -rf /srv/data\n");
        assert_eq!(
            a.invocations.last().map(|i| i.via.clone()),
            Some(vec!["sudo".into(), "bash -s".into()])
        );
        let (a, _) = judged("ssh db2 'bash -s'", b"rm -rf /srv/data\n");
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        let rm = a.invocations.last().expect("rm");
        assert_eq!(
            (rm.program.as_str(), rm.remote_host.as_deref()),
            ("rm", Some("db2"))
        );
        let (a, _) = judged("echo BECOME-SUCCESS-x ; sh && sleep 0", b"ls\n");
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        let (a, _) = judged("cd /srv && bash -s", b"rm -rf data\n");
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert!(a.invocations.iter().any(|i| i.program == "rm"));
    }

    #[test]
    fn what_cannot_be_judged_is_an_unknown_payload() {
        let unknown = |a: &Analysis| {
            a.problems
                .iter()
                .any(|p| matches!(p, Problem::UnknownPayload { .. }))
        };
        let (a, feed) = judged("python3 -", b"import os\n");
        assert!(unknown(&a));
        assert_eq!(feed.expect("read").bytes, b"import os\n");
        let (a, _) = judged("python3", b"  \n");
        assert!(!unknown(&a), "{:?}", a.problems);
        let (a, _) = judged("perl", b"unlink 'x';\n");
        assert!(unknown(&a));
        let (a, _) = judged("head -c 5; bash -s", b"echo rm -rf /srv\n");
        assert!(unknown(&a));
        let big = vec![b'#'; MAX_SCRIPT + 10];
        let (a, feed) = judged("bash -s", &big);
        assert!(unknown(&a));
        let feed = feed.expect("read");
        assert!(feed.rest);
        assert_eq!(feed.bytes.len(), MAX_SCRIPT + 1);
        let (a, _) = judged("bash -s", b"echo \xff\n");
        assert!(unknown(&a));
        // Not an interpreter reading stdin: nothing is read.
        let (a, feed) = judged("ls -l", b"rm -rf /\n");
        assert!(feed.is_none());
        assert!(a.problems.is_empty());
        let (_, feed) = judged("bash -s <<'E'\nls\nE", b"rm -rf /\n");
        assert!(feed.is_none());
    }
}
