//! `prodguard banner` and `prodguard prompt`: where am I, for the login and the shell prompt.

use super::error::{Error, Status};
use super::{load, Global, EXIT_OK};
use crate::prompt::{self, Shell};
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PromptShell {
    Bash,
    Zsh,
    Plain,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// Escape the colour codes for this shell's prompt.
    #[arg(long, value_enum, default_value = "plain")]
    pub shell: PromptShell,
    /// Print the terminal-title text instead of the prompt segment.
    #[arg(long)]
    pub title: bool,
}

pub fn banner(global: &Global) -> Status {
    let (host, policy) = load(global);
    let colour = prompt::colour_enabled(std::io::stdout().is_terminal());
    let text = prompt::render_banner(
        &host,
        &policy.digest,
        &crate::guard::banner_warnings(&policy),
        colour,
    );
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(Error::io("cannot write"))?;
    Ok(EXIT_OK)
}

pub fn prompt(global: &Global, args: &PromptArgs) -> Status {
    let host = crate::host::HostContext::load(global.host_file.as_deref());
    let marker = crate::guard::declared::prompt_grant(&host)
        .map(|g| crate::guard::declared::prompt_marker(&g));
    let text = if args.title {
        prompt::render_title(&host, marker.as_deref())
    } else {
        // The segment is captured by the shell ($(…)), with stderr sent to /dev/null by the
        // integration, so judge colour by the terminal it will be shown on: the controlling one.
        let on_terminal =
            std::io::stderr().is_terminal() || std::fs::File::open("/dev/tty").is_ok();
        let colour = prompt::colour_enabled(on_terminal);
        let shell = match args.shell {
            PromptShell::Bash => Shell::Bash,
            PromptShell::Zsh => Shell::Zsh,
            PromptShell::Plain => Shell::Plain,
        };
        prompt::render_prompt_segment(&host, shell, colour, marker.as_deref())
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(Error::io("cannot write"))?;
    Ok(EXIT_OK)
}
