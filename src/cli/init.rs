//! `prodguard init bash|zsh`: print the shell integration, with this binary's path filled in.

use super::{EXIT_OK, EXIT_USAGE};
use crate::login::integration;
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The shell to print the integration for.
    pub shell: Shell,
}

pub fn run(args: &InitArgs) -> u8 {
    let Some(bin) = integration::current_bin() else {
        eprintln!("prodguard: init: cannot tell where this binary is installed");
        return EXIT_USAGE;
    };
    let shell = match args.shell {
        Shell::Bash => integration::Shell::Bash,
        Shell::Zsh => integration::Shell::Zsh,
    };
    let _ = std::io::stdout().write_all(integration::script(shell, &bin).as_bytes());
    EXIT_OK
}
