//! `prodguard init bash|zsh`: print the shell integration, with this binary's path filled in.

use super::error::{Error, Status};
use super::EXIT_OK;
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

pub fn run(args: &InitArgs) -> Status {
    let bin = integration::current_bin()
        .ok_or_else(|| Error::Usage("init: cannot tell where this binary is installed".into()))?;
    let shell = match args.shell {
        Shell::Bash => integration::Shell::Bash,
        Shell::Zsh => integration::Shell::Zsh,
    };
    std::io::stdout()
        .write_all(integration::script(shell, &bin).as_bytes())
        .map_err(Error::io("cannot write the integration"))?;
    Ok(EXIT_OK)
}
