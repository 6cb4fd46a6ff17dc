//! `prodguard init bash|zsh`: print the shell integration, with this binary's path filled in.

use super::{EXIT_OK, EXIT_USAGE};
use clap::{Args, ValueEnum};
use std::io::Write;

/// The bash integration, as shipped in `shell-integration/`.
pub const BASH: &str = include_str!("../../shell-integration/prodguard.bash");
/// The zsh integration, as shipped in `shell-integration/`.
pub const ZSH: &str = include_str!("../../shell-integration/prodguard.zsh");

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

/// The integration script for `shell`, calling the binary at `bin`.
pub fn script(shell: Shell, bin: &str) -> String {
    let template = match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
    };
    template.replace("@PRODGUARD_BIN@", &crate::shell::quote::quote(bin))
}

/// The absolute path of the running binary, for the scripts to call back.
pub fn current_bin() -> Option<String> {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_string))
}

pub fn run(args: &InitArgs) -> u8 {
    let Some(bin) = current_bin() else {
        eprintln!("prodguard: init: cannot tell where this binary is installed");
        return EXIT_USAGE;
    };
    let _ = std::io::stdout().write_all(script(args.shell, &bin).as_bytes());
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_path_is_quoted_in() {
        let s = script(Shell::Bash, "/opt/my tools/prodguard");
        assert!(s.contains("__prodguard_bin='/opt/my tools/prodguard'"));
        assert!(!s.contains("@PRODGUARD_BIN@"));
        let z = script(Shell::Zsh, "/usr/bin/prodguard");
        assert!(z.contains("__prodguard_bin=/usr/bin/prodguard"));
    }
}
