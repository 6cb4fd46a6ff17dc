//! `prodguard explain` and `prodguard demo`: the decision trace, asking and recording nothing.

use super::error::{Error, Status};
use super::{load, Global, EXIT_OK};
use crate::decide::Verdict;
use crate::guard::{report, Context, Declared, Guard, Judgement};
use crate::host::HostContext;
use crate::policy::PolicySet;
use crate::shell::Analysis;
use clap::Args;
use std::io::{BufRead, Write};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Print JSON (one object per command).
    #[arg(long)]
    pub json: bool,
    /// Read one command per line from standard input; print one JSON line each.
    #[arg(long, conflicts_with = "command")]
    pub stdin: bool,
    /// Decide at this instant (RFC 3339, `2026-12-24T15:00:00+01:00`) instead of now: for time
    /// windows and freezes.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Decide as this user (groups from this host's databases) instead of yourself.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Decide as a session from this SSH client address (`local`: not over SSH).
    #[arg(long, value_name = "ADDR")]
    pub ssh_from: Option<String>,
    /// The command line to explain (words are joined with spaces).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD",
        required_unless_present = "stdin"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print the full explain trace of every command.
    #[arg(long, short)]
    pub verbose: bool,
}

/// The JSON form of one explained command.
pub fn json(
    command: &str,
    analysis: &Analysis,
    verdict: &Verdict,
    host: &HostContext,
    policy: &PolicySet,
) -> serde_json::Value {
    serde_json::json!({
        "command": command,
        "action": verdict.action,
        "matches": verdict.matches,
        "challenge": verdict.challenge,
        "approvers": verdict.approvers,
        "invocations": analysis.invocations,
        "problems": analysis.problems,
        "host": { "hostname": host.hostname, "environment": host.environment, "role": host.role },
        "policy": { "digest": policy.digest, "strict": policy.strict },
    })
}

/// The JSON form of a judgement: [`json`], and the break-glass session that would waive it.
fn judgement_json(j: &Judgement, policy: &PolicySet) -> serde_json::Value {
    let mut v = json(j.command(), j.analysis(), j.verdict(), j.host(), policy);
    if let (Some(g), Some(obj)) = (j.break_glass(), v.as_object_mut()) {
        obj.insert(
            "break_glass".to_string(),
            serde_json::json!({ "id": g.id, "reason": g.reason, "expires": g.expires }),
        );
    }
    v
}

pub fn run(global: &Global, args: &ExplainArgs) -> Status {
    let (mut host, policy) = load(global);
    if let Some(t) = &args.now {
        match t.parse::<jiff::Timestamp>() {
            Ok(ts) => host.now = Some(ts),
            Err(e) => {
                return Err(Error::Usage(format!(
                    "explain: --now {t}: {e} (write RFC 3339: 2026-12-24T15:00:00+01:00)"
                )))
            }
        }
    }
    if let Some(u) = &args.user {
        host.subject = crate::subject::Subject {
            interactive: host.subject.interactive,
            origin: host.subject.origin,
            ..crate::subject::Subject::for_user(u)
        };
    }
    if let Some(a) = &args.ssh_from {
        host.subject.origin = if a == "local" {
            crate::subject::Origin::Local
        } else {
            match crate::subject::parse_addr(a) {
                Some(ip) => crate::subject::Origin::Ssh(ip),
                None => {
                    return Err(Error::Usage(format!(
                        "explain: --ssh-from {a}: not an IP address or `local`"
                    )))
                }
            }
        };
    }
    for e in &policy.errors {
        eprint!("{e}");
    }
    if policy.strict {
        eprintln!(
            "prodguard: warning: the site policy failed to load; the strict fallback is in force"
        );
    }
    let declared = Declared::current(&host);
    let guard = Guard::new(host, policy, declared, None);
    let (host, policy) = (guard.host(), guard.policy());
    let ctx = Context::here();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.stdin {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            let j = guard.judge(&line, &ctx);
            writeln!(out, "{}", judgement_json(&j, policy))
                .map_err(Error::io("cannot write the verdicts"))?;
        }
        return Ok(EXIT_OK);
    }
    let command = args.command.join(" ");
    if command.trim().is_empty() {
        return Err(Error::Usage("explain: empty command".into()));
    }
    let j = guard.judge(&command, &ctx);
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&judgement_json(&j, policy)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        report::explain(&command, j.analysis(), j.verdict(), host, policy)
    };
    out.write_all(text.as_bytes())
        .map_err(Error::io("cannot write the explanation"))?;
    Ok(EXIT_OK)
}

/// The host the demo pretends to be: the GitLab primary.
pub fn demo_host() -> HostContext {
    HostContext::from_toml(
        r#"
hostname = "db1.example.com"
environment = "production"
role = "db-primary"
cluster = "main"
fleet = [{ name = "db2.example.com", role = "db-replica" }, { name = "web1.example.com", role = "web" }]
"#,
        None,
    )
}

const DEMO: &[&str] = &[
    "ls -la /var/lib/postgresql",
    "tail -n 100 /var/log/postgresql/postgresql-15-main.log",
    "rm -rf /tmp/build-cache",
    "sudo rm -rf /var/lib/postgresql/15/main",
    "cd /var/opt/gitlab && rm -fr postgresql/data",
    "rm -rf /",
    "find /var/lib/postgresql -name '*.conf' -exec rm {} \\;",
    "ssh db2.example.com 'sudo rm -rf /var/lib/postgresql/15/main'",
    "echo hi > /etc/passwd",
    "dd if=/dev/zero of=/dev/sda bs=1M",
    "kubectl -n payments delete namespace payments",
    "terraform destroy -auto-approve",
    "systemctl stop postgresql",
    "psql -c 'DROP DATABASE production'",
    "psql -c 'SELECT count(*) FROM users'",
    "bash -c \"$CLEANUP_CMD\"",
];

pub fn demo(args: &DemoArgs) -> Status {
    // The demo host, with nothing declared: the same for everyone who runs it.
    let guard = Guard::new(
        demo_host(),
        PolicySet::embedded_only(true),
        Declared::default(),
        None,
    );
    let (host, policy) = (guard.host(), guard.policy());
    let ctx = Context {
        shell: crate::shell::Context {
            cwd: "/root".into(),
            home: Some("/root".into()),
            env: Vec::new(),
            stdin_unknown: false,
        },
        ..Context::here()
    };
    let mut out = String::new();
    out.push_str(&format!(
        "prodguard demo: the embedded default policy, as seen on {}\n\n",
        report::host_line(host)
    ));
    for cmd in DEMO {
        let j = guard.judge(cmd, &ctx);
        let v = j.verdict();
        if args.verbose {
            out.push_str(&report::explain(cmd, j.analysis(), v, host, policy));
            out.push('\n');
            continue;
        }
        out.push_str(&format!(
            "  {:<8} {cmd}\n",
            v.action.as_str().to_uppercase()
        ));
        if let Some(m) = v.decisive() {
            out.push_str(&format!("           └ {}: {}\n", m.rule, m.message));
        }
    }
    out.push_str("\nSee the whole trace of one:  prodguard explain 'sudo rm -rf /var/lib/postgresql/15/main'\n");
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(Error::io("cannot write the demo"))?;
    Ok(EXIT_OK)
}
