//! Who is asking: the user, their groups, whether a human is at a terminal, and where an SSH
//! login came from. Built once per check by the command line and carried on the host context,
//! so that policy `when` conditions can scope rules to people and networks.
//!
//! Every fact may be unknown (a replayed history without group data, a test). An unknown fact
//! never makes a rule stop applying and never grants an exemption: see `policy::when`.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The account name of `uid` as the system's user database has it, or the number itself
/// when it has none (a deleted user, a uid from a container).
pub fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

/// Where the session comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "address")]
pub enum Origin {
    /// Not known (a replayed command, a test).
    #[default]
    Unknown,
    /// Not an SSH session (console, cron, a local service).
    Local,
    /// An SSH session from this client address.
    Ssh(IpAddr),
}

/// The person or service the command runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Subject {
    /// User name, when known.
    pub user: Option<String>,
    /// Real uid, when known.
    pub uid: Option<u32>,
    /// Groups (name, gid), primary group included; `None` when unknown.
    pub groups: Option<Vec<(String, u32)>>,
    /// Whether a human is at a terminal; `None` when unknown.
    pub interactive: Option<bool>,
    /// Where the session comes from.
    pub origin: Origin,
}

impl Subject {
    /// Nothing known.
    pub fn unknown() -> Subject {
        Subject::default()
    }

    /// This process: real uid, its name and groups, whether stdin or stderr is a terminal, and
    /// the SSH client address from `SSH_CONNECTION` / `SSH_CLIENT`. Those variables are the
    /// user's to set: the origin read from them is advisory, and where a policy's `ssh`
    /// condition could matter the guard replaces it with the audit service's (see
    /// `guard::origin`).
    pub fn current() -> Subject {
        let uid = nix::unistd::getuid();
        let user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name);
        let mut gids: Vec<nix::unistd::Gid> = nix::unistd::getgroups().unwrap_or_default();
        gids.push(nix::unistd::getgid());
        let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin())
            || std::io::IsTerminal::is_terminal(&std::io::stderr());
        Subject {
            user,
            uid: Some(uid.as_raw()),
            groups: Some(group_names(gids)),
            interactive: Some(interactive),
            origin: origin_from_env(
                std::env::var("SSH_CONNECTION").ok().as_deref(),
                std::env::var("SSH_CLIENT").ok().as_deref(),
            ),
        }
    }

    /// A named user as the system's user and group databases know them (for `explain --user`
    /// and replays). Unknown users keep only their name; their groups stay unknown.
    pub fn for_user(name: &str) -> Subject {
        let mut s = Subject {
            user: Some(name.to_string()),
            ..Subject::default()
        };
        if let Ok(Some(u)) = nix::unistd::User::from_name(name) {
            s.uid = Some(u.uid.as_raw());
            if let Ok(cname) = std::ffi::CString::new(name) {
                if let Ok(gids) = nix::unistd::getgrouplist(&cname, u.gid) {
                    s.groups = Some(group_names(gids));
                }
            }
        }
        s
    }
}

fn group_names(mut gids: Vec<nix::unistd::Gid>) -> Vec<(String, u32)> {
    gids.sort_by_key(|g| g.as_raw());
    gids.dedup();
    gids.into_iter()
        .map(|g| {
            let name = nix::unistd::Group::from_gid(g)
                .ok()
                .flatten()
                .map(|gr| gr.name)
                .unwrap_or_else(|| g.as_raw().to_string());
            (name, g.as_raw())
        })
        .collect()
}

/// The origin from `SSH_CONNECTION` (`client port server port`) or `SSH_CLIENT`; `Local` when
/// neither is set.
pub fn origin_from_env(connection: Option<&str>, client: Option<&str>) -> Origin {
    match connection.or(client) {
        None => Origin::Local,
        Some(text) => text
            .split_ascii_whitespace()
            .next()
            .and_then(parse_addr)
            .map_or(Origin::Unknown, Origin::Ssh),
    }
}

/// An address as written in an audit record's `ssh_client` (`10.0.0.5:51234`, `[::1]:22`) or
/// bare, IPv4-mapped IPv6 addresses as IPv4.
pub fn parse_addr(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    let bare = if let Some(rest) = t.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if t.matches(':').count() == 1 {
        t.split(':').next().unwrap_or(t)
    } else {
        t
    };
    let ip: IpAddr = bare.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_from_ssh_variables() {
        assert_eq!(
            origin_from_env(Some("10.1.2.3 51234 10.0.0.1 22"), None),
            Origin::Ssh("10.1.2.3".parse().unwrap())
        );
        assert_eq!(
            origin_from_env(None, Some("::ffff:192.0.2.7 5 22")),
            Origin::Ssh("192.0.2.7".parse().unwrap())
        );
        assert_eq!(origin_from_env(None, None), Origin::Local);
        assert_eq!(origin_from_env(Some("garbage"), None), Origin::Unknown);
    }

    #[test]
    fn addresses_as_recorded() {
        assert_eq!(parse_addr("10.0.0.5:51234"), "10.0.0.5".parse().ok());
        assert_eq!(parse_addr("[2001:db8::1]:22"), "2001:db8::1".parse().ok());
        assert_eq!(parse_addr("2001:db8::1"), "2001:db8::1".parse().ok());
        assert_eq!(parse_addr("nope"), None);
    }
}
