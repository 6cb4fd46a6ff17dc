//! Policy `ssh` conditions over a real sshd on 127.0.0.1: the installed service reads where the
//! session comes from off the kernel, and an `SSH_CONNECTION` the user exports changes neither
//! a verdict nor the record.

use crate::sessions::logged_in;
use crate::world::World;

const PACK_FILE: &str = "/etc/prodguard/policies.d/pgi-e2e-origin.toml";

/// Two site rules on programs no default pack names: one that stops applying from the loopback
/// network, one waived from a network the test never comes from.
const PACK: &str = r#"
[[rule]]
id = "site.e2e-hostid-off-loopback"
action = "deny"
when = { ssh = ["!127.0.0.0/8"] }
match = { program = ["hostid"] }
message = "hostid runs only from the loopback network"
tests.match = ["hostid"]

[[rule]]
id = "site.e2e-nproc-bastion-exempt"
action = "deny"
match = { program = ["nproc"] }
message = "nproc is refused here"
tests.match = ["nproc"]
exempt = [{ user = ["*"], ssh = ["10.0.0.0/8"], reason = "the bastion network may count" }]
"#;

const FORGED: &str = "10.9.9.9";

/// Removes the pack when the step ends, passed or not.
struct Pack;
impl Drop for Pack {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(PACK_FILE);
    }
}

pub fn ssh_conditions(world: &World) {
    std::fs::write(PACK_FILE, PACK).unwrap_or_else(|e| panic!("{PACK_FILE}: {e}"));
    let _pack = Pack;
    let login = &world.bash;

    // `ssh host CMD` from 127.0.0.1: the first rule does not apply (were the origin unknown, it
    // would), the second does (no exemption from here).
    let out = login.sshd.run("hostid");
    assert_eq!(out.status.code(), Some(0), "{}", world.explain(login, &out));
    let out = login.sshd.run("nproc");
    assert_eq!(
        out.status.code(),
        Some(126),
        "{}",
        world.explain(login, &out)
    );

    // At a terminal, with the variables exported to name the exempt network: the same verdicts.
    let mut t = logged_in(login);
    t.line(&format!(
        "export SSH_CONNECTION='{FORGED} 40000 10.0.0.1 22' SSH_CLIENT='{FORGED} 40000 22'"
    ));
    t.expect("MYPROMPT");
    t.line("nproc");
    t.expect("nproc is refused here");
    t.expect("MYPROMPT");
    // The refused line is back at the prompt, to edit: clear it.
    t.send(b"\x15");
    t.line("hostid >/dev/null && echo HOSTID-$((2+3))RAN");
    t.expect("HOSTID-5RAN");
    t.expect("MYPROMPT");
    t.line("exit");
    t.wait();

    // On record: the address sshd accepted, not the one exported; nothing of it advisory.
    let mine = world.records_of(&login.user);
    let nproc: Vec<_> = mine.iter().filter(|r| r["command"] == "nproc").collect();
    assert_eq!(nproc.len(), 2, "{mine:#?}");
    for r in nproc {
        assert_eq!(r["outcome"], "denied", "{r:#}");
        assert_eq!(r["rules"][0], "site.e2e-nproc-bastion-exempt", "{r:#}");
        let client = r["ssh_client"].as_str().unwrap_or_default();
        assert!(client.starts_with("127.0.0.1"), "{r:#}");
        assert!(
            !r["advisory"]
                .as_array()
                .is_some_and(|a| a.iter().any(|f| f == "ssh_client")),
            "{r:#}"
        );
    }
}
