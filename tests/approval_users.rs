//! Second-person approval between two real Unix users on one host.
//!
//! Needs root (CI runs as root), useradd/groupadd and setpriv; otherwise each test prints why and
//! passes (under `CI=true` it fails). Every test makes its own users and groups with unique names
//! (removed on every path), and an audit service of its own that holds a spool in a temp dir
//! (root's, mode 0700): no user is in any group of the spool's, only the approver in the
//! approvers group. The requester files a request with `prodguard request --no-wait`; the
//! approver types the host name on a real pty; the requester then runs `prodguard -- CMD`,
//! which consumes the approval through the service.

mod approval_support;
#[allow(dead_code)]
#[path = "support/golden.rs"]
mod golden;
#[allow(dead_code)]
#[path = "support/pty.rs"]
mod pty;
mod support;

use approval_support::*;
use std::os::unix::fs::MetadataExt;

struct World {
    _accounts: Accounts,
    site: Site,
    requester: User,
    approver: User,
    outsider: User,
}

/// Two users, an outsider, and a site. `extra`: more `[approvers]` lines.
fn world(extra: &str) -> Option<(World, std::sync::MutexGuard<'static, ()>)> {
    if let Some(why) = cannot_run() {
        support::skip(&why);
        return None;
    }
    let lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let id = unique();
    let mut acc = Accounts::new();
    let approvers = format!("pgt-aprs-{id}");
    acc.group(&approvers);
    let requester = acc.user(&format!("pgt-req-{id}"), &[]);
    let approver = acc.user(&format!("pgt-apr-{id}"), &[&approvers]);
    let outsider = acc.user(&format!("pgt-oth-{id}"), &[]);
    let site = Site::new(&approvers, extra);
    Some((
        World {
            _accounts: acc,
            site,
            requester,
            approver,
            outsider,
        },
        lock,
    ))
}

impl World {
    fn request(&self, arg: &str) -> (String, String) {
        let mut a = args(&["request", "--no-wait", "--"]);
        a.extend(self.site.bump(arg));
        let out = self.site.run(Some(&self.requester), "host.toml", &a);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        request_id(&out)
    }

    fn run_bump(&self, host: &str, arg: &str) -> std::process::Output {
        let mut a = args(&["--"]);
        a.extend(self.site.bump(arg));
        self.site.run(Some(&self.requester), host, &a)
    }

    fn approve(&self, short: &str) {
        let (status, screen) =
            approve_on_pty(&self.site, Some(&self.approver), "host.toml", short, "db1");
        assert!(status.success(), "approve failed:\n{screen}");
        assert!(screen.contains("PRODUCTION"), "{screen}");
        assert!(
            screen.contains("bump"),
            "the approver sees the command: {screen}"
        );
        assert!(
            screen.contains(&self.requester.name),
            "the approver sees who asks: {screen}"
        );
    }
}

#[test]
fn approved_command_runs_once_and_the_audit_names_both_users() {
    let Some((w, _lock)) = world("") else { return };
    let (short, full) = w.request("once");
    let listed = w
        .site
        .run(Some(&w.approver), "host.toml", &args(&["requests"]));
    assert!(
        text(&listed.stdout).contains(&short),
        "{}",
        text(&listed.stdout)
    );
    assert!(text(&listed.stdout).contains("pending"));

    // Before approval the command does not run.
    let early = w.run_bump("host.toml", "once");
    assert_eq!(early.status.code(), Some(126), "{}", text(&early.stderr));
    assert!(text(&early.stderr).contains("waiting for a second person's approval"));
    assert!(w.site.runs().is_empty());

    w.approve(&short);
    let approval_file = std::fs::read_dir(&w.site.spool)
        .expect("spool")
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{full}.approval."))
        })
        .expect("approval file");
    // The service wrote it, in its own directory, naming the uid the kernel gave it.
    assert_eq!(approval_file.metadata().expect("stat").uid(), 0);
    let approval: serde_json::Value =
        serde_json::from_slice(&std::fs::read(approval_file.path()).expect("read approval"))
            .expect("approval is JSON");
    assert_eq!(approval["uid"], w.approver.uid, "{approval}");
    assert_eq!(approval["user"], w.approver.name.as_str(), "{approval}");
    let spool = std::fs::metadata(&w.site.spool).expect("spool");
    assert_eq!((spool.uid(), spool.mode() & 0o7777), (0, 0o700));

    let first = w.run_bump("host.toml", "once");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(w.site.runs(), vec!["once"]);

    let again = w.run_bump("host.toml", "once");
    assert_eq!(again.status.code(), Some(126));
    assert!(
        text(&again.stderr).contains("already used"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(w.site.runs(), vec!["once"], "ran exactly once");

    let recs = w.site.records();
    let step = |outcome: &str| {
        recs.iter()
            .find(|r| r["event"] == "approval" && r["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {outcome} record in {recs:#?}"))
    };
    assert_eq!(step("requested")["user"], w.requester.name.as_str());
    for outcome in ["approved", "used"] {
        let r = step(outcome);
        assert_eq!(r["user"], w.requester.name.as_str(), "{r}");
        assert_eq!(r["uid"], w.requester.uid, "{r}");
        assert_eq!(r["approver"], w.approver.name.as_str(), "{r}");
        assert!(r["detail"].as_str().unwrap_or("").contains(&full), "{r}");
    }
    let ran = recs
        .iter()
        .find(|r| r["event"] == "command" && r["outcome"] == "approved")
        .expect("the command's record");
    assert_eq!(ran["user"], w.requester.name.as_str());
    assert_eq!(ran["approver"], w.approver.name.as_str());
    assert_eq!(ran["action"], "approve");

    let verify = w.site.run(
        None,
        "host.toml",
        &args(&["audit", "verify", &w.site.audit.display().to_string()]),
    );
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
}

#[test]
fn denied_request_is_refused_with_the_reason() {
    let Some((w, _lock)) = world("") else { return };
    let (short, _) = w.request("deny-me");
    let deny = w.site.run(
        Some(&w.approver),
        "host.toml",
        &args(&["deny", &short, "--reason", "not during the freeze"]),
    );
    assert_eq!(deny.status.code(), Some(0), "{}", text(&deny.stderr));
    let out = w.run_bump("host.toml", "deny-me");
    assert_eq!(out.status.code(), Some(126));
    let err = text(&out.stderr);
    assert!(err.contains("not during the freeze"), "{err}");
    assert!(err.contains(&w.approver.name), "{err}");
    assert!(w.site.runs().is_empty());
    let recs = w.site.records();
    let denied = recs
        .iter()
        .find(|r| r["event"] == "approval" && r["outcome"] == "denied")
        .expect("denied record");
    assert_eq!(denied["approver"], w.approver.name.as_str());
    assert_eq!(denied["user"], w.requester.name.as_str());
    assert_eq!(denied["reason"], "not during the freeze");
}

#[test]
fn self_approval_and_outsiders_are_refused() {
    let Some((w, _lock)) = world("") else { return };
    let (short, full) = w.request("self");
    // The requester approving their own request: refused before any question.
    let me = w
        .site
        .run(Some(&w.requester), "host.toml", &args(&["approve", &short]));
    assert_eq!(me.status.code(), Some(1));
    assert!(
        text(&me.stderr).contains("cannot approve their own request"),
        "{}",
        text(&me.stderr)
    );
    // Someone outside the approvers group.
    let other = w
        .site
        .run(Some(&w.outsider), "host.toml", &args(&["approve", &short]));
    assert_eq!(other.status.code(), Some(1));
    assert!(
        text(&other.stderr).contains("not a member of the approvers group"),
        "{}",
        text(&other.stderr)
    );
    // An approval file written by hand: the spool is the service's, nobody else may write in it.
    let forged = format!(
        "{{\"kind\":\"prodguard-approval\",\"request\":\"{full}\",\"user\":\"{}\",\"uid\":{},\"time\":0}}\n",
        w.approver.name, w.approver.uid
    );
    let path = w
        .site
        .spool
        .join(format!("{full}.approval.0000000000000000"));
    let write = std::process::Command::new("setpriv")
        .arg(format!("--reuid={}", w.requester.uid))
        .arg(format!("--regid={}", w.requester.gid))
        .arg("--init-groups")
        .args(["--", "sh", "-c", "cat > \"$1\"", "sh"])
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            if let Some(mut i) = c.stdin.take() {
                i.write_all(forged.as_bytes())?;
            }
            c.wait()
        })
        .expect("forge");
    assert!(!write.success(), "the requester wrote into the spool");
    assert!(!exists_nofollow(&path));
    let out = w.run_bump("host.toml", "self");
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(w.site.runs().is_empty());
    let recs = w.site.records();
    assert!(
        recs.iter().any(|r| r["outcome"] == "refused"
            && r["approver"] == w.requester.name.as_str()
            && r["reason"].as_str().unwrap_or("").contains("own request")),
        "{recs:#?}"
    );
}

#[test]
fn root_approval_is_recorded_and_can_be_forbidden() {
    let Some((w, _lock)) = world("allow_root = false") else {
        return;
    };
    let (short, _) = w.request("root");
    let out = w.site.run(None, "host.toml", &args(&["approve", &short]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("allow_root = false"),
        "{}",
        text(&out.stderr)
    );
    // A host.toml of the caller's own does not change what the service allows.
    w.site
        .host_file("root-ok.toml", "db1.example.com", "nobody-group", "");
    let (status, screen) = approve_on_pty(&w.site, None, "root-ok.toml", &short, "db1");
    assert_eq!(status.code(), Some(1), "{screen}");
    assert!(screen.contains("allow_root = false"), "{screen}");
    // Where root may approve (the service's host.toml says so), it is recorded as root.
    w.site
        .host_file("host.toml", "db1.example.com", "nobody-group", "");
    // A wrong host name approves nothing.
    let (status, screen) = approve_on_pty(&w.site, None, "host.toml", &short, "db2");
    assert_eq!(status.code(), Some(1), "{screen}");
    assert!(screen.contains("not approved"), "{screen}");
    let (status, screen) = approve_on_pty(&w.site, None, "host.toml", &short, "db1");
    assert!(status.success(), "{screen}");
    assert!(screen.contains("as root"), "{screen}");
    let recs = w.site.records();
    assert!(
        recs.iter()
            .any(|r| r["outcome"] == "approved" && r["approver"] == "root"),
        "{recs:#?}"
    );
}

#[test]
fn an_approval_binds_to_the_command_the_host_and_the_time() {
    let Some((w, _lock)) = world("expiry = \"6s\"") else {
        return;
    };
    let (short, _) = w.request("exact-1");
    w.approve(&short);
    // One byte different: not approved (and a new request is filed for it).
    let changed = w.run_bump("host.toml", "exact-2");
    assert_eq!(changed.status.code(), Some(126));
    assert!(w.site.runs().is_empty());
    // Same spool, another host name.
    w.site
        .host_file("db2.toml", "db2.example.com", "unused", "expiry = \"6s\"");
    let elsewhere = w.run_bump("db2.toml", "exact-1");
    assert_eq!(elsewhere.status.code(), Some(126));
    assert!(
        text(&elsewhere.stderr).contains("made for host db1.example.com; this is db2.example.com"),
        "{}",
        text(&elsewhere.stderr)
    );
    assert!(w.site.runs().is_empty());
    // Another user cannot use it either.
    let mut a = args(&["--"]);
    a.extend(w.site.bump("exact-1"));
    let other = w.site.run(Some(&w.outsider), "host.toml", &a);
    assert_eq!(other.status.code(), Some(126));
    assert!(w.site.runs().is_empty());
    // After expiry: refused, with the reason.
    std::thread::sleep(std::time::Duration::from_secs(7));
    let late = w.run_bump("host.toml", "exact-1");
    assert_eq!(late.status.code(), Some(126));
    assert!(
        text(&late.stderr).contains("expired"),
        "{}",
        text(&late.stderr)
    );
    assert!(w.site.runs().is_empty());
    // Approving an expired request is refused too.
    let (st, screen) = {
        let out = w
            .site
            .run(Some(&w.approver), "host.toml", &args(&["approve", &short]));
        (out.status, text(&out.stderr))
    };
    assert_eq!(st.code(), Some(1));
    assert!(screen.contains("expired"), "{screen}");
}

#[test]
fn symlinks_in_and_at_the_spool_are_not_followed() {
    let Some((w, _lock)) = world("") else { return };
    let (short, full) = w.request("links");
    // A symlink where an approval would be: never read (its target is the approver's own
    // approval of this very request, so following it would count).
    w.approve(&short);
    let real = std::fs::read_dir(&w.site.spool)
        .expect("spool")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(".approval."))
        .expect("approval");
    let renamed = w.site.path("moved-approval");
    std::fs::rename(&real, &renamed).expect("move approval out");
    let link = w
        .site
        .spool
        .join(format!("{full}.approval.1111111111111111"));
    std::os::unix::fs::symlink(&renamed, &link).expect("plant symlink");
    let out = w.run_bump("host.toml", "links");
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(w.site.runs().is_empty());
    std::fs::remove_file(&link).expect("unplant");

    // A symlink planted at the used marker's name, pointing where a file would be created:
    // nothing is created there, and the approval counts as used.
    std::fs::rename(&renamed, &real).expect("move approval back");
    let victim = w.site.path("victim");
    std::os::unix::fs::symlink(&victim, w.site.spool.join(format!("{full}.used")))
        .expect("plant used link");
    let out = w.run_bump("host.toml", "links");
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(
        !exists_nofollow(&victim),
        "a file was created through the symlink"
    );
    assert!(w.site.runs().is_empty());

    // The spool itself reached through a symlink: refused by the service.
    let alias = w.site.path("spool-link");
    std::os::unix::fs::symlink(&w.site.spool, &alias).expect("spool link");
    std::fs::write(
        w.site.path("host.toml"),
        format!(
            "hostname = \"db1.example.com\"\nenvironment = \"production\"\n[approvers]\ngroup = \"x\"\nspool = \"{}\"\n[audit]\nsyslog = \"none\"\nsocket = \"{}\"\n",
            alias.display(),
            w.site.socket().display()
        ),
    )
    .expect("host");
    let out = w
        .site
        .run(Some(&w.requester), "host.toml", &args(&["requests"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("symlink"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn two_approvers_are_two_different_people() {
    let Some((w, _lock)) = world("") else { return };
    std::fs::write(
        w.site.path("pol/two.toml"),
        "[[rule]]\nid = \"test.bump-two\"\nseverity = \"critical\"\naction = \"approve\"\n\
         approvers = 2\nmatch = { program = [\"bump\"], args = [\"^two$\"] }\n\
         message = \"two people.\"\n",
    )
    .expect("policy");
    let (short, _) = w.request("two");
    w.approve(&short);
    // The same person approving again does not count twice.
    let (status, screen) = {
        let out = w
            .site
            .run(Some(&w.approver), "host.toml", &args(&["approve", &short]));
        (out.status, text(&out.stderr))
    };
    assert_eq!(status.code(), Some(0));
    assert!(screen.contains("already approved"), "{screen}");
    let one = w.run_bump("host.toml", "two");
    assert_eq!(one.status.code(), Some(126), "{}", text(&one.stderr));
    assert!(w.site.runs().is_empty());
    let (status, screen) = approve_on_pty(&w.site, None, "host.toml", &short, "db1");
    assert!(status.success(), "{screen}");
    let two = w.run_bump("host.toml", "two");
    assert_eq!(two.status.code(), Some(0), "{}", text(&two.stderr));
    assert_eq!(w.site.runs(), vec!["two"]);
    let recs = w.site.records();
    let ran = recs
        .iter()
        .find(|r| r["event"] == "command" && r["outcome"] == "approved")
        .expect("command record");
    let approvers = ran["approver"].as_str().unwrap_or("");
    assert!(
        approvers.contains(&w.approver.name) && approvers.contains("root"),
        "{approvers}"
    );
}

#[test]
fn a_secret_in_a_request_is_seen_only_by_the_requester() {
    let Some((w, _lock)) = world("") else { return };
    let secret = "DB_PASSWORD=Wq7spool1";
    let (short, full) = w.request(secret);
    // The spool: the request holds the redacted text and a digest; the exact command is in a
    // file only root (the service) can read, which gives it to the requester alone.
    let mut exact_files = 0;
    for entry in std::fs::read_dir(&w.site.spool).expect("spool").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry.metadata().expect("stat");
        let bytes = std::fs::read(entry.path()).expect("read");
        if name == format!("{full}.exact") {
            exact_files += 1;
            assert_eq!(meta.mode() & 0o777, 0o600, "{name}");
            assert_eq!(meta.uid(), 0, "{name}");
        } else {
            assert!(
                !String::from_utf8_lossy(&bytes).contains("Wq7spool1"),
                "{name} holds the secret"
            );
        }
        if name == format!("{full}.request") {
            let t = String::from_utf8_lossy(&bytes).into_owned();
            assert!(t.contains("DB_PASSWORD=***"), "{t}");
            assert!(t.contains("\"secret_digest\":\""), "{t}");
        }
    }
    assert_eq!(exact_files, 1);
    // `requests`: everyone else sees the redacted text, the requester the exact one.
    for who in [&w.outsider, &w.approver] {
        for a in [&["requests"][..], &["requests", "--json"][..]] {
            let out = w.site.run(Some(who), "host.toml", &args(a));
            let shown = text(&out.stdout);
            assert!(shown.contains(&short), "{shown}");
            assert!(!shown.contains("Wq7spool1"), "{} sees {shown}", who.name);
            assert!(shown.contains("DB_PASSWORD=***"), "{shown}");
        }
    }
    // The service itself gives the exact command to nobody else (root here is not the requester).
    let raw = raw_call(&w.site.socket(), "{\"op\":\"approval-list\",\"all\":true}");
    assert_eq!(raw["ok"], true, "{raw}");
    assert!(raw.to_string().contains("DB_PASSWORD=***"), "{raw}");
    assert!(!raw.to_string().contains("Wq7spool1"), "{raw}");
    let mine = w
        .site
        .run(Some(&w.requester), "host.toml", &args(&["requests"]));
    assert!(
        text(&mine.stdout).contains("Wq7spool1"),
        "{}",
        text(&mine.stdout)
    );
    // The approver reads and approves the redacted command.
    let (status, screen) = approve_on_pty(&w.site, Some(&w.approver), "host.toml", &short, "db1");
    assert!(status.success(), "approve failed:\n{screen}");
    assert!(!screen.contains("Wq7spool1"), "{screen}");
    assert!(screen.contains("DB_PASSWORD=***"), "{screen}");
    // The approval binds to the exact command: another secret behind the same mask does not run.
    let other = w.run_bump("host.toml", "DB_PASSWORD=Wq7spool2");
    assert_eq!(other.status.code(), Some(126), "{}", text(&other.stderr));
    assert!(w.site.runs().is_empty());
    let run = w.run_bump("host.toml", secret);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(w.site.runs(), vec![secret]);
    // Nothing with the secrets reached the audit log.
    let log = std::fs::read_to_string(&w.site.audit).unwrap_or_default();
    assert!(!log.contains("Wq7spool"), "{log}");
    assert!(log.contains("\"redactions\":[\"assignment\"]"), "{log}");
    let recs = w.site.records();
    let requested = recs
        .iter()
        .find(|r| r["event"] == "approval" && r["outcome"] == "requested")
        .expect("the requested record");
    assert_eq!(requested["redacted"], true, "{requested}");
}

/// Without a terminal a confirmation cannot be typed: the refusal's advice, `prodguard request
/// -- CMD`, files a request, a second person's approval stands in for the confirmation, and the
/// command runs once.
#[test]
fn an_approval_stands_in_for_a_confirmation_without_a_terminal() {
    let Some((w, _lock)) = world("") else { return };
    let nudge = w.site.path("bin/nudge");
    std::fs::copy(w.site.path("bin/bump"), &nudge).expect("nudge");
    std::fs::write(
        w.site.path("pol/confirm.toml"),
        "[[rule]]\nid = \"test.nudge\"\nseverity = \"high\"\naction = \"confirm\"\nconfirm = \"hostname\"\nmatch = { program = [\"nudge\"] }\nmessage = \"nudge asks on {host}.\"\nwhy = \"A test rule.\"\n",
    )
    .expect("pack");
    let cmd = vec![nudge.display().to_string(), "soft".to_string()];
    let run = || {
        let mut a = args(&["--"]);
        a.extend(cmd.clone());
        w.site.run(Some(&w.requester), "host.toml", &a)
    };
    let refused = run();
    assert_eq!(
        refused.status.code(),
        Some(126),
        "{}",
        text(&refused.stderr)
    );
    assert!(
        text(&refused.stderr).contains("prodguard request -- "),
        "{}",
        text(&refused.stderr)
    );
    let mut a = args(&["request", "--no-wait", "--"]);
    a.extend(cmd.clone());
    let filed = w.site.run(Some(&w.requester), "host.toml", &a);
    assert_eq!(filed.status.code(), Some(0), "{}", text(&filed.stderr));
    let (short, _) = request_id(&filed);
    let early = run();
    assert_eq!(early.status.code(), Some(126), "{}", text(&early.stderr));
    assert!(
        text(&early.stderr).contains("waiting for a second person's approval"),
        "{}",
        text(&early.stderr)
    );
    let (status, screen) = approve_on_pty(&w.site, Some(&w.approver), "host.toml", &short, "db1");
    assert!(status.success(), "approve failed:\n{screen}");
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(w.site.runs(), vec!["soft"]);
    let again = run();
    assert_eq!(again.status.code(), Some(126), "{}", text(&again.stderr));
    assert_eq!(w.site.runs(), vec!["soft"], "ran exactly once");
    let recs = w.site.records();
    let ran = recs
        .iter()
        .find(|r| r["event"] == "command" && r["outcome"] == "approved")
        .unwrap_or_else(|| panic!("no approved command in {recs:#?}"));
    assert_eq!(ran["action"], "confirm", "{ran}");
    assert_eq!(ran["approver"], w.approver.name.as_str(), "{ran}");
    assert_eq!(ran["rules"][0], "test.nudge", "{ran}");
}

/// The canonical text of a request for `bump ARG` on db1, claiming to be `user`/`uid`.
fn forged_request(site: &Site, user: &str, uid: u32, arg: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let command = site.bump(arg).join(" ");
    format!(
        "{{\"kind\":\"prodguard-approval-request\",\"v\":1,\"host\":\"db1.example.com\",\
         \"environment\":\"production\",\"role\":\"db-primary\",\"user\":\"{user}\",\"uid\":{uid},\
         \"command\":\"{command}\",\"cwd\":\"{}\",\"rules\":[\"test.bump\"],\"approvers\":1,\
         \"nonce\":\"{:032x}\",\"created\":{now},\"expires\":{}}}\n",
        site.dir.path().display(),
        u128::from(now) * 7919 + u128::from(std::process::id()),
        now + 600
    )
}

#[test]
fn the_service_takes_the_caller_from_the_kernel_not_from_the_request() {
    let Some((w, _lock)) = world("allow_root = true") else {
        return;
    };
    let socket = w.site.socket();
    // Root files a request that claims to be the requester's: it is refused, nothing filed.
    let forged = forged_request(&w.site, &w.requester.name, w.requester.uid, "forged");
    let op = serde_json::json!({"op": "approval-file", "request": forged}).to_string();
    let claimed = raw_call(&socket, &op);
    assert_eq!(claimed["ok"], false, "{claimed}");
    assert!(
        claimed["error"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("names uid {}", w.requester.uid)),
        "{claimed}"
    );
    let spooled = std::fs::read_dir(&w.site.spool).map_or(0, Iterator::count);
    assert_eq!(spooled, 0, "nothing is filed");
    // Filed as root's, it is root's.
    let own = forged_request(&w.site, "root", 0, "forged");
    let op = serde_json::json!({"op": "approval-file", "request": own}).to_string();
    let filed = raw_call(&socket, &op);
    assert_eq!(filed["ok"], true, "{filed}");
    assert_eq!(filed["v"], 2, "{filed}");
    let req: serde_json::Value =
        serde_json::from_str(filed["entries"][0]["request"].as_str().unwrap_or_default())
            .expect("the filed request");
    assert_eq!(req["uid"], 0, "{req}");
    assert_eq!(req["user"], "root", "{req}");
    let id = filed["entries"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The requester the request named does not see it as theirs, and cannot use it.
    let mine = w.site.run(
        Some(&w.requester),
        "host.toml",
        &args(&["requests", "--json"]),
    );
    let listed = text(&mine.stdout);
    assert!(listed.contains(&id), "{listed}");
    assert!(listed.contains("\"user\":\"root\""), "{listed}");
    // The service refuses the requester's own approval, whatever the client checks first.
    let own = raw_call(
        &socket,
        &serde_json::json!({"op": "approval-approve", "id": id}).to_string(),
    );
    assert_eq!(own["ok"], false, "{own}");
    assert!(
        own["error"].as_str().unwrap_or("").contains("own request"),
        "{own}"
    );
    let early = raw_call(
        &socket,
        &serde_json::json!({"op": "approval-use", "id": id}).to_string(),
    );
    assert_eq!(early["ok"], false, "{early}");
    assert!(
        early["error"]
            .as_str()
            .unwrap_or("")
            .contains("not approved"),
        "{early}"
    );
    // An operation carrying an identity of its own is not an operation.
    let extra = raw_call(
        &socket,
        &serde_json::json!({"op": "approval-approve", "id": id, "uid": w.approver.uid}).to_string(),
    );
    assert_eq!(extra["ok"], false, "{extra}");
    // A real second user approves through the service; root's request is then usable once.
    let (status, screen) = approve_on_pty(
        &w.site,
        Some(&w.approver),
        "host.toml",
        id.get(..16).unwrap_or(&id),
        "db1",
    );
    assert!(status.success(), "{screen}");
    let used = raw_call(
        &socket,
        &serde_json::json!({"op": "approval-use", "id": id}).to_string(),
    );
    assert_eq!(used["ok"], true, "{used}");
    assert_eq!(used["approvers"][0]["uid"], w.approver.uid, "{used}");
    let again = raw_call(
        &socket,
        &serde_json::json!({"op": "approval-use", "id": id}).to_string(),
    );
    assert_eq!(again["ok"], false, "{again}");
    assert!(
        again["error"]
            .as_str()
            .unwrap_or("")
            .contains("already used"),
        "{again}"
    );
}

/// The sha256 of `text` in hex: the id of a request whose canonical text it is.
fn id_of(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The full ids named by the `approval` records of `outcome`.
fn ids_recorded(site: &Site, outcome: &str) -> Vec<String> {
    site.records()
        .iter()
        .filter(|r| r["event"] == "approval" && r["outcome"] == outcome)
        .filter_map(|r| {
            r["detail"]
                .as_str()?
                .split_whitespace()
                .nth(2)
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn the_service_files_a_request_under_the_id_its_requester_made_or_not_at_all() {
    let Some((w, _lock)) = world("") else { return };
    let socket = w.site.socket();
    let spooled = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&w.site.spool)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()?
                            .strip_suffix(".request")
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    // The requester's host.toml lets a request live 4 hours; the service's allows the default
    // 15 minutes. The service does not shorten the request (that would change its id, and the
    // requester's record, wait and the approver's command would name a request that does not
    // exist): it refuses it, saying why, and nothing is filed.
    let host = std::fs::read_to_string(w.site.path("host.toml")).expect("host.toml");
    std::fs::write(
        w.site.path("long.toml"),
        host.replacen("[audit]", "expiry = \"4h\"\n[audit]", 1),
    )
    .expect("long.toml");
    let mut a = args(&["request", "--no-wait", "--"]);
    a.extend(w.site.bump("long"));
    let long = w.site.run(Some(&w.requester), "long.toml", &a);
    let err = text(&long.stderr);
    assert_eq!(long.status.code(), Some(1), "{}{err}", text(&long.stdout));
    assert!(err.contains("expiry"), "{err}");
    assert!(spooled().is_empty(), "{:?}", spooled());
    let asked = ids_recorded(&w.site, "requested");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(ids_recorded(&w.site, "refused"), asked);

    // Filed as the service's host.toml says, the id printed is the id recorded, the id of the
    // file in the spool and the id an approver approves.
    let (short, full) = w.request("same");
    assert_eq!(spooled(), vec![full.clone()]);
    assert_eq!(ids_recorded(&w.site, "requested").last(), Some(&full));
    w.approve(&short);
    assert_eq!(ids_recorded(&w.site, "approved"), vec![full.clone()]);
    let ran = w.run_bump("host.toml", "same");
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    assert_eq!(ids_recorded(&w.site, "used"), vec![full.clone()]);

    // Whatever a client sends, the answer's id is the sha256 of the bytes sent, or the request
    // is refused naming the field the service would have had to change.
    let honest = forged_request(&w.site, "root", 0, "honest");
    let filed = raw_call(
        &socket,
        &serde_json::json!({"op": "approval-file", "request": honest}).to_string(),
    );
    assert_eq!(filed["ok"], true, "{filed}");
    assert_eq!(
        filed["entries"][0]["id"],
        id_of(&honest).as_str(),
        "{filed}"
    );
    let secret = forged_request(&w.site, "root", 0, "--password=Tulip-77");
    let cases = [
        (forged_request(&w.site, &w.requester.name, 0, "who"), "user"),
        (
            forged_request(&w.site, "root", w.requester.uid, "uid"),
            "uid",
        ),
        (secret, "secret"),
    ];
    for (req, field) in cases {
        let before = spooled();
        let a = raw_call(
            &socket,
            &serde_json::json!({"op": "approval-file", "request": req}).to_string(),
        );
        assert_eq!(a["ok"], false, "{field}: {a}");
        assert!(
            a["error"].as_str().unwrap_or("").contains(field),
            "{field}: {a}"
        );
        assert_eq!(spooled(), before, "{field}: nothing filed");
    }
}

#[test]
fn an_approval_is_used_once_when_several_processes_race_for_it() {
    let Some((w, _lock)) = world("") else { return };
    let (short, _) = w.request("race");
    w.approve(&short);
    let mut a = args(&["--"]);
    a.extend(w.site.bump("race"));
    let children: Vec<_> = (0..6)
        .map(|_| {
            let mut c = w.site.as_user(Some(&w.requester), "host.toml", &a);
            c.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            detach(&mut c);
            c.spawn().expect("spawn a racer")
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let ran = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        ran,
        1,
        "{:?}",
        outs.iter().map(|o| text(&o.stderr)).collect::<Vec<_>>()
    );
    assert_eq!(w.site.runs(), vec!["race"], "the command ran exactly once");
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(126), "{}", text(&o.stderr));
    }
}

#[test]
fn a_stopped_client_does_not_stall_another() {
    let Some((w, _lock)) = world("") else { return };
    let (short, _) = w.request("stall");
    // A client that stops half-way through a request, holding its connection open …
    let mut stuck = std::os::unix::net::UnixStream::connect(w.site.socket()).expect("connect");
    std::io::Write::write_all(&mut stuck, b"{\"op\":\"approval-use\",\"id\":\"").expect("half");
    // … and a real one stopped with SIGSTOP while it talks to the service.
    let mut c = w.site.as_user(
        Some(&w.outsider),
        "host.toml",
        &args(&["requests", "--all"]),
    );
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut stopped = c.spawn().expect("spawn");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(stopped.id()).unwrap_or(0));
    std::thread::sleep(std::time::Duration::from_millis(30));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP);
    let start = std::time::Instant::now();
    w.approve(&short);
    let ran = w.run_bump("host.toml", "stall");
    let took = start.elapsed();
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = stopped.wait();
    drop(stuck);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    assert_eq!(w.site.runs(), vec!["stall"]);
    assert!(
        took < std::time::Duration::from_secs(8),
        "approving and running took {took:?} beside a stopped client"
    );
}

#[test]
fn with_the_service_down_approval_is_refused_naming_the_service() {
    let Some((mut w, _lock)) = world("") else {
        return;
    };
    if let Some(s) = w.site.service.as_mut() {
        s.kill();
    }
    let out = w.run_bump("host.toml", "down");
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("audit service"), "{err}");
    assert!(err.contains("systemctl start prodguard.socket"), "{err}");
    assert!(w.site.runs().is_empty());
    let listed = w
        .site
        .run(Some(&w.approver), "host.toml", &args(&["requests"]));
    assert!(!listed.status.success());
    assert!(
        text(&listed.stderr).contains("systemctl start prodguard.socket"),
        "{}",
        text(&listed.stderr)
    );
    // What needs no approval still runs.
    let safe = w
        .site
        .run(Some(&w.requester), "host.toml", &args(&["--", "true"]));
    assert_eq!(safe.status.code(), Some(0), "{}", text(&safe.stderr));
    if let Some(s) = w.site.service.as_mut() {
        s.restart();
    }
}

#[test]
fn one_user_may_have_at_most_32_requests_waiting() {
    let Some((w, _lock)) = world("") else { return };
    let file = |n: usize| {
        let req = forged_request(&w.site, "root", 0, &format!("cap-{n}"));
        raw_call(
            &w.site.socket(),
            &serde_json::json!({"op": "approval-file", "request": req}).to_string(),
        )
    };
    for n in 0..32 {
        let a = file(n);
        assert_eq!(a["ok"], true, "request {n}: {a}");
    }
    let over = file(32);
    assert_eq!(over["ok"], false, "{over}");
    assert!(
        over["error"].as_str().unwrap_or("").contains("at most 32"),
        "{over}"
    );
    // Another user is not affected.
    let theirs = w.request("cap-other");
    assert!(!theirs.0.is_empty());
}

/// The approval messages as the two people see them, pinned by golden files: the requester's
/// request filed, approved (the run that uses it), denied and expired; the approver's question,
/// approval and denial. Times, ids, user names, uids and temp paths are masked.
#[test]
fn approval_messages_are_pinned_as_each_person_sees_them() {
    let Some((w, _lock)) = world("expiry = \"3s\"") else {
        return;
    };
    let mask = |short: &str, s: &str| {
        let s = s
            .replace(&w.site.dir.path().display().to_string(), "<site>")
            .replace(&w.requester.name, "<requester>")
            .replace(&w.approver.name, "<approver>")
            .replace(&format!("uid {}", w.requester.uid), "uid <uid>")
            .replace(&format!("uid {}", w.approver.uid), "uid <approver-uid>")
            .replace(short, "<short>");
        let s = regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
            .expect("regex")
            .replace_all(&s, "<time>")
            .into_owned();
        regex::Regex::new(r"\b[0-9a-f]{12,64}\b")
            .expect("regex")
            .replace_all(&s, "<id>")
            .into_owned()
    };
    let filed = |arg: &str| {
        let mut a = args(&["request", "--no-wait", "--"]);
        a.extend(w.site.bump(arg));
        let out = w.site.run(Some(&w.requester), "host.toml", &a);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let (short, _) = request_id(&out);
        (short, format!("{}{}", text(&out.stdout), text(&out.stderr)))
    };
    let run = |arg: &str| {
        let out = w.run_bump("host.toml", arg);
        (out.status.code(), text(&out.stderr))
    };
    let pin = |name: &str, short: &str, shown: String| golden::golden(name, &mask(short, &shown));

    // Filed, approved on the approver's terminal, then run by the requester.
    let (short, shown) = filed("approved");
    let (status, screen) = approve_on_pty(&w.site, Some(&w.approver), "host.toml", &short, "db1");
    assert!(status.success(), "{screen}");
    let (code, used) = run("approved");
    assert_eq!(code, Some(0), "{used}");
    let approver = format!("== approver: approve (terminal)\n{screen}");
    pin(
        "approval_approved.txt",
        &short,
        format!("== requester: request --no-wait\n{shown}{approver}== requester: the run\n{used}"),
    );

    // Filed, denied, then refused to the requester.
    let (short, shown) = filed("denied");
    let deny = w.site.run(
        Some(&w.approver),
        "host.toml",
        &args(&["deny", &short, "--reason", "not during the freeze"]),
    );
    assert_eq!(deny.status.code(), Some(0), "{}", text(&deny.stderr));
    let (code, refused) = run("denied");
    assert_eq!(code, Some(126), "{refused}");
    let approver = format!("== approver: deny\n{}", text(&deny.stderr));
    pin(
        "approval_denied.txt",
        &short,
        format!(
            "== requester: request --no-wait\n{shown}{approver}== requester: the run\n{refused}"
        ),
    );

    // Filed, left to expire, then refused to the requester.
    let (short, shown) = filed("expired");
    std::thread::sleep(std::time::Duration::from_secs(4));
    let (code, refused) = run("expired");
    assert_eq!(code, Some(126), "{refused}");
    assert!(
        w.site.runs().iter().all(|r| r == "approved"),
        "{:?}",
        w.site.runs()
    );
    pin(
        "approval_expired.txt",
        &short,
        format!("== requester: request --no-wait\n{shown}== requester: the run\n{refused}"),
    );
}
