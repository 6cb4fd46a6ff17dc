//! The shell files of the guard, embedded from `shell-integration/`: the integration `prodguard
//! init` prints, and the startup files the login shell hands bash and zsh before it.

/// The bash integration, as shipped in `shell-integration/`.
pub const BASH: &str = include_str!("../../shell-integration/prodguard.bash");
/// The zsh integration, as shipped in `shell-integration/`.
pub const ZSH: &str = include_str!("../../shell-integration/prodguard.zsh");
/// The login bash rcfile's first part: the startup files of a login bash.
pub const LOGIN_BASH: &str = include_str!("../../shell-integration/login-profile.bash");
/// The login zsh's `.zshenv`, `.zprofile` and `.zshrc`.
pub const LOGIN_ZSHENV: &str = include_str!("../../shell-integration/login-zshenv.zsh");
pub const LOGIN_ZPROFILE: &str = include_str!("../../shell-integration/login-zprofile.zsh");
pub const LOGIN_ZSHRC: &str = include_str!("../../shell-integration/login-zshrc.zsh");

/// A shell the integration exists for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
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

/// The rcfile of a login bash: the login startup files, then the integration.
pub fn bash_rcfile(bin: &str) -> String {
    let mut s = String::from(LOGIN_BASH);
    s.push_str(&script(Shell::Bash, bin));
    s
}

/// The startup files of a login zsh, by name, for a private `$ZDOTDIR` `private` whose files
/// read the user's own in `user_dir`; `.zshrc` ends with the integration.
pub fn zsh_files(private: &str, user_dir: &str, bin: &str) -> [(&'static str, String); 3] {
    let fill = |t: &str| {
        t.replace("@USER_DIR@", &crate::shell::quote::quote(user_dir))
            .replace("@PRIVATE_DIR@", &crate::shell::quote::quote(private))
    };
    let mut rc = fill(LOGIN_ZSHRC);
    rc.push_str(&script(Shell::Zsh, bin));
    [
        (".zshenv", fill(LOGIN_ZSHENV)),
        (".zprofile", fill(LOGIN_ZPROFILE)),
        (".zshrc", rc),
    ]
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

    #[test]
    fn rcfile_reads_profile_then_integration() {
        let rc = bash_rcfile("/usr/bin/prodguard");
        let profile = rc.find("/etc/profile").unwrap_or(usize::MAX);
        let bind = rc.find("bind -x").unwrap_or(0);
        assert!(profile < bind);
    }

    #[test]
    fn zsh_files_read_the_users_own_and_remove_themselves() {
        let files = zsh_files("/run/user/1/pg zsh", "/home/a b", "/usr/bin/prodguard");
        assert_eq!(files[0].0, ".zshenv");
        assert!(files[0]
            .1
            .contains("ZDOTDIR='/home/a b' source '/home/a b'/.zshenv"));
        let rc = &files[2].1;
        assert!(rc.contains("/bin/rmdir -- '/run/user/1/pg zsh'"));
        let own = rc.find("'/home/a b'/.zshrc").unwrap_or(usize::MAX);
        let hook = rc.find("__prodguard_bin=").unwrap_or(0);
        assert!(own < hook);
        assert!(!files.iter().any(|(_, t)| t.contains('@')));
    }
}
