//! `prodguard generate man|completions DIR` (hidden): the man page `prodguard.1` and the shell
//! completions, generated from the clap definition so that they cannot drift from `--help`.
//!
//! `man/prodguard.1` is the clap part (NAME, SYNOPSIS, DESCRIPTION, OPTIONS and one COMMANDS
//! subsection per visible subcommand, rendered by clap_mangen) followed by the hand-written
//! sections in `man/prodguard.1.extra` (login shell, exit status, environment, files, security,
//! examples, see also). The test `tests/packaging_man.rs` regenerates both into a temp dir and
//! fails when the committed files differ: run `scripts/regenerate` after changing the CLI.

use super::error::{Error, Status};
use super::{Cli, EXIT_OK};
use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// The hand-written part of `prodguard.1`, appended to the generated part.
pub const MAN_EXTRA: &str = include_str!("../../man/prodguard.1.extra");

/// The date in the page header. Bump it with a non-trivial change of the page.
pub const MAN_DATE: &str = "2026-11-23";

/// The completion scripts: shell and file name, as installed by the Debian package.
pub const COMPLETIONS: &[(Shell, &str)] = &[
    (Shell::Bash, "prodguard.bash"),
    (Shell::Zsh, "_prodguard"),
    (Shell::Fish, "prodguard.fish"),
];

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum What {
    /// `prodguard.1`.
    Man,
    /// Completions for bash, zsh and fish.
    Completions,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to generate.
    pub what: What,
    /// Directory to write into (created if missing).
    pub dir: PathBuf,
}

pub fn run(args: &GenerateArgs) -> Status {
    let written = match args.what {
        What::Man => write_man(&args.dir).map(|p| vec![p]),
        What::Completions => write_completions(&args.dir),
    };
    let paths = written.map_err(Error::io(format!(
        "cannot write into {}",
        args.dir.display()
    )))?;
    for p in paths {
        println!("{}", p.display());
    }
    Ok(EXIT_OK)
}

fn write_man(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("prodguard.1");
    std::fs::write(&path, man_page())?;
    Ok(path)
}

fn write_completions(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for &(shell, name) in COMPLETIONS {
        let path = dir.join(name);
        std::fs::write(&path, completion(shell))?;
        out.push(path);
    }
    Ok(out)
}

/// The completion script for `shell`.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "prodguard", &mut buf);
    buf
}

/// The whole `prodguard.1`: the generated part, with [`MAN_DESCRIPTION`] after the synopsis and
/// [`MAN_EXTRA`] at the end.
pub fn man_page() -> Vec<u8> {
    let mut cmd = Cli::command();
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let man = clap_mangen::Man::new(cmd.clone())
        .title("PRODGUARD")
        .date(MAN_DATE)
        .source(format!("prodguard {version}"))
        .manual("User Commands");
    let mut out = String::new();
    out.push_str(&render(|w| man.render_title(w)));
    out.push_str(&render(|w| man.render_name_section(w)));
    out.push_str(".SH SYNOPSIS\n");
    out.push_str(MAN_SYNOPSIS);
    out.push_str(MAN_DESCRIPTION);
    out.push_str(&render(|w| man.render_options_section(w)));

    let globals: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().to_string())
        .collect();
    out.push_str(".SH COMMANDS\n");
    out.push_str(
        "Each command also accepts the options above, and \\fB\\-h\\fR, \\fB\\-\\-help\\fR.\n",
    );
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        command_section(sub, &globals, &mut out);
    }
    out.push_str(MAN_EXTRA);
    // The first render defined the `Aq` string every later one redefines: keep one definition.
    let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let body = out.replace(preamble, "");
    // clap_mangen separates a help text from its list of possible values with `.br`, an empty
    // line and `.br`: one vertical space says the same without lint warnings.
    let body = body.replace("\n.br\n\n.br\n", "\n.sp\n");
    format!("{preamble}{body}").into_bytes()
}

/// The root synopsis: the three ways prodguard is run (the login-shell `-c` is not a clap option).
const MAN_SYNOPSIS: &str = r"\fBprodguard\fR [\fIOPTIONS\fR] \fICOMMAND\fR [\fIARGS\fR]
.br
\fBprodguard\fR [\fIOPTIONS\fR] \fB\-\-\fR \fIPROGRAM\fR [\fIARGS\fR ...]
.br
\fBprodguard\fR [\fB\-c\fR \fICMD\fR]
";

/// The hand-written DESCRIPTION, placed after the synopsis.
pub const MAN_DESCRIPTION: &str = include_str!("../../man/prodguard.1.description");

/// A clap_mangen section as text.
fn render(f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = f(&mut buf);
    tidy(&String::from_utf8_lossy(&buf))
}

/// Lines as `mandoc -T lint` likes them: no trailing blanks, text lines at most 80 bytes
/// (filled text may break at any space; a `.TP` tag line must stay whole).
fn tidy(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    let mut after_tp = false;
    for line in roff.lines() {
        let line = line.trim_end();
        if line.starts_with('.') || after_tp || line.len() <= 80 {
            out.push_str(line);
            out.push('\n');
        } else {
            let mut current = String::new();
            for word in line.split(' ').filter(|w| !w.is_empty()) {
                if !current.is_empty() && current.len() + 1 + word.len() > 80 {
                    out.push_str(&current);
                    out.push('\n');
                    current.clear();
                }
                if current.is_empty() && (word.starts_with('.') || word.starts_with('\'')) {
                    current.push_str("\\&");
                } else if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(word);
            }
            out.push_str(&current);
            out.push('\n');
        }
        after_tp = line == ".TP";
    }
    out
}

/// The body of a rendered section: without its `.SH` line.
fn body(section: &str) -> String {
    section
        .lines()
        .filter(|l| !l.starts_with(".SH"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// One `.SS` per leaf command: synopsis, description, options.
fn command_section(cmd: &clap::Command, globals: &[String], out: &mut String) {
    if cmd.has_subcommands() {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            command_section(sub, globals, out);
        }
        return;
    }
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    out.push_str(&format!(".SS \"{}\"\n", name.replace('-', "\\-")));
    let mut cmd = cmd.clone();
    let inherited: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .filter(|id| globals.contains(id) || id == "help")
        .collect();
    for id in inherited {
        cmd = cmd.mut_arg(id, |a| a.hide(true));
    }
    let man = clap_mangen::Man::new(cmd.clone());
    out.push_str(&body(&render(|w| man.render_synopsis_section(w))));
    out.push_str(".PP\n");
    out.push_str(&body(&render(|w| man.render_description_section(w))));
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        out.push_str(&body(&render(|w| man.render_options_section(w))));
    }
}
