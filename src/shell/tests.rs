//! Behaviour of `analyze` on whole command lines.

use super::*;

fn ctx() -> Context {
    Context {
        cwd: "/home/me/work".to_owned(),
        home: Some("/home/me".to_owned()),
        env: Vec::new(),
        stdin_unknown: false,
    }
}

fn an(text: &str) -> Analysis {
    analyze(text, &ctx())
}

fn one<'a>(a: &'a Analysis, program: &str) -> &'a Invocation {
    a.invocations
        .iter()
        .find(|i| i.program == program)
        .unwrap_or_else(|| panic!("no {program} invocation in {a:#?}"))
}

fn flags(i: &Invocation) -> Vec<&str> {
    i.flags.iter().map(String::as_str).collect()
}

fn path(p: &str) -> Target {
    Target::Path(p.to_owned())
}

#[test]
fn rm_flag_spellings_normalise_identically() {
    let want = an("rm -r -f /x");
    for text in [
        "rm -fr /x",
        "rm -R --force /x",
        "rm --recursive --force /x",
        "rm -rf -- /x",
    ] {
        let a = an(text);
        assert_eq!(one(&a, "rm").flags, one(&want, "rm").flags, "{text}");
        assert_eq!(one(&a, "rm").targets, [path("/x")], "{text}");
    }
    assert_eq!(flags(one(&want, "rm")), ["force", "recursive"]);
    assert!(want.problems.is_empty());
}

#[test]
fn sudo_user_is_unwrapped() {
    let a = an("sudo -u postgres rm -rf /var/lib/postgresql/15/main");
    let rm = one(&a, "rm");
    assert_eq!(rm.via, ["sudo"]);
    assert_eq!(rm.run_as.as_deref(), Some("postgres"));
    assert_eq!(rm.targets, [path("/var/lib/postgresql/15/main")]);
    assert_eq!(a.invocations.len(), 1);
}

#[test]
fn ssh_remote_command_is_parsed_with_remote_host() {
    let a = an("ssh -p 2222 db2 'sudo rm -rf /data'");
    let ssh = one(&a, "ssh");
    assert_eq!(ssh.remote_host.as_deref(), Some("db2"));
    assert!(ssh.operands.contains(&"db2".to_owned()));
    let rm = one(&a, "rm");
    assert_eq!(rm.remote_host.as_deref(), Some("db2"));
    assert_eq!(rm.via, ["ssh db2", "sudo"]);
    assert_eq!(rm.targets, [path("/data")]);
    let a = an("ssh admin@db3 rm -rf /srv");
    assert_eq!(one(&a, "rm").remote_host.as_deref(), Some("db3"));
    let a = an("ssh db2 \"$CMD\"");
    assert!(matches!(a.problems[..], [Problem::UnknownPayload { .. }]));
}

#[test]
fn find_exec_and_delete() {
    let a = an("find /var/lib -name '*.log' -exec rm -f {} \\;");
    let find = one(&a, "find");
    assert_eq!(find.targets, [path("/var/lib")]);
    assert!(find
        .options
        .contains(&("name".to_owned(), "*.log".to_owned())));
    let rm = one(&a, "rm");
    assert!(rm.dynamic_operands);
    assert_eq!(rm.via, ["find"]);
    assert_eq!(flags(rm), ["force"]);
    assert_eq!(rm.targets, [path("/var/lib")]);
    let a = an("find . -mtime +30 -delete");
    let find = one(&a, "find");
    assert!(find.flags.contains("delete"));
    assert_eq!(find.targets, [path("/home/me/work")]);
    let a = an("find /tmp -type f -exec shred -u {} +");
    assert!(one(&a, "shred").flags.contains("remove"));
}

#[test]
fn xargs_gives_dynamic_operands() {
    let a = an("ls | xargs rm -rf");
    let rm = one(&a, "rm");
    assert!(rm.dynamic_operands);
    assert_eq!(rm.via, ["xargs"]);
    let a = an("find . -print0 | xargs -0 -I {} -n 1 -P 4 rm -rf {}");
    assert!(one(&a, "rm").flags.contains("recursive"));
}

#[test]
fn paths_found_by_find_stand_for_runtime_operands() {
    let unknown = |s: &str| Target::Unknown(s.to_owned());
    // Piped to xargs, through filters of whole lines, NUL-separated or not.
    for line in [
        "find . -name '*.o' | xargs rm -f",
        "find . -name '*.o' -print0 | xargs -0 rm -f",
        "find . -type f | grep -v keep | sort -u | head -n 20 | xargs rm",
        "find -name '*.o' | xargs -I % rm %",
        "find ./ -name \"$1\" | xargs rm",
    ] {
        let a = an(line);
        let rm = one(&a, "rm");
        assert!(rm.dynamic_operands, "{line}");
        assert_eq!(rm.runtime_roots, [path("/home/me/work")], "{line}");
        assert_eq!(rm.targets, [path("/home/me/work")], "{line}");
    }
    let a = an("find /var/lib/postgresql -name '*.old' | xargs rm -rf");
    assert_eq!(one(&a, "rm").targets, [path("/var/lib/postgresql")]);
    // `-exec`: `{}`, `./{}` and names made from it stand for the paths found; a name made under
    // another directory stands for what lies under that one.
    let a = an("find /tmp/x -exec mv {} {}.bak \\;");
    assert_eq!(one(&a, "mv").targets, [path("/tmp/x")]);
    let a = an("find . -name x -execdir rm /var/lib/postgresql/{} \\;");
    let rm = one(&a, "rm");
    assert_eq!(rm.targets, [path("/var/lib/postgresql")]);
    assert_eq!(
        rm.runtime_roots,
        [path("/home/me/work"), path("/var/lib/postgresql")]
    );
    let a = an("find . -exec sudo rm {} +");
    assert_eq!(one(&a, "rm").runtime_roots, [path("/home/me/work")]);
    // Not only path names, or names read elsewhere: not known (an unknown root among them is
    // enough: it is judged as any path, so the line fails closed).
    for line in [
        "find . -printf '%f\\n' | xargs rm",
        "find . -exec cat {} \\; | xargs rm",
        "find . | sed s/a/b/ | xargs rm",
        "find . | grep -o x | xargs rm",
        "find . | head -c 20 | xargs rm",
        "find . | xargs -a list rm",
        "find . $ACTION | xargs rm",
        "find . > /tmp/l | xargs rm",
        "find . | sudo -D /var/lib/postgresql xargs rm",
    ] {
        let a = an(line);
        let rm = one(&a, "rm");
        assert!(
            rm.runtime_roots.is_empty()
                || rm
                    .runtime_roots
                    .iter()
                    .any(|t| matches!(t, Target::Unknown(_))),
            "{line}: {:?}",
            rm.runtime_roots
        );
    }
    // A root not known before it runs stays unknown.
    let a = an("find \"$DIR\" -mtime +7 | xargs rm");
    assert_eq!(one(&a, "rm").targets, [unknown("\"$DIR\"")]);
}

#[test]
fn a_shell_run_by_find_or_xargs_sees_the_paths_found_in_its_parameters() {
    // `{}` handed to `sh -c` as $0, $1 or in "$@" is a path under the root it was found in.
    for line in [
        "find /var/lib/postgresql -exec sh -c 'rm \"$1\"' _ {} \\;",
        "find /var/lib/postgresql -exec bash -c 'rm -f $0' {} \\;",
        "find /var/lib/postgresql -name '*.old' -exec sh -c 'rm -f \"$@\"' sh {} +",
        "find /var/lib/postgresql | xargs -I % sh -c 'rm \"$1\"' _ %",
        "find /var/lib/postgresql | xargs sh -c 'rm \"$@\"' _",
    ] {
        let a = an(line);
        assert_eq!(
            one(&a, "rm").targets,
            [path("/var/lib/postgresql/{}")],
            "{line}"
        );
    }
    // Each root in turn; a root not known stays unknown.
    let a = an("find /srv/a /srv/b -exec sh -c 'rm \"$1\"' _ {} \\;");
    let rms: Vec<_> = a
        .invocations
        .iter()
        .filter(|i| i.program == "rm")
        .map(|i| i.targets.clone())
        .collect();
    assert_eq!(rms, [[path("/srv/a/{}")], [path("/srv/b/{}")]]);
    let a = an("find \"$D\" -exec sh -c 'rm \"$1\"' _ {} \\;");
    assert!(matches!(one(&a, "rm").targets[..], [Target::Unknown(_)]));
    // A name made from it is not known; words that are not the placeholder keep their value.
    let a = an("find /srv/a -exec sh -c 'rm \"$1\" \"$2\"' _ x{} /tmp/y \\;");
    let rm = one(&a, "rm");
    assert!(
        matches!(rm.targets[0], Target::Unknown(_)),
        "{:?}",
        rm.targets
    );
    assert_eq!(rm.targets[1], path("/tmp/y"));
}

#[test]
fn shell_strings_and_eval_are_parsed() {
    let a = an("bash -c \"rm -rf /\"");
    let rm = one(&a, "rm");
    assert_eq!(rm.targets, [path("/")]);
    assert_eq!(rm.via, ["bash -c"]);
    let a = an("sh -xc 'cd /srv && rm -rf data'");
    assert_eq!(one(&a, "rm").targets, [path("/srv/data")]);
    let a = an("bash -c \"$CMD\"");
    assert!(matches!(a.problems[..], [Problem::UnknownPayload { .. }]));
    let a = an("eval 'rm -rf /e'");
    assert_eq!(one(&a, "rm").targets, [path("/e")]);
    let a = an("eval \"$X\"");
    assert!(matches!(a.problems[..], [Problem::UnknownPayload { .. }]));
    let a = an("curl -s https://x | bash");
    assert!(matches!(a.problems[..], [Problem::UnknownPayload { .. }]));
}

#[test]
fn command_substitutions_are_analysed() {
    for text in [
        "echo `rm -rf /x`",
        "echo $(rm -rf /x)",
        "echo \"$(rm -rf /x)\"",
        "echo ${Y:-$(rm -rf /x)}",
        "[[ -n $(rm -rf /x) ]]",
        "diff <(rm -rf /x) b",
    ] {
        let a = an(text);
        assert_eq!(one(&a, "rm").targets, [path("/x")], "{text}");
        assert!(a.problems.is_empty(), "{text}: {:?}", a.problems);
    }
}

#[test]
fn python_one_liners() {
    let a = an("python3 -c 'import shutil; shutil.rmtree(\"/srv/data\")'");
    one(&a, "python3");
    let rm = one(&a, "rm");
    assert_eq!(flags(rm), ["force", "recursive"]);
    assert_eq!(rm.targets, [path("/srv/data")]);
    assert_eq!(rm.via, ["python3 -c"]);
    let a = an("python -c 'import os; os.system(\"rm -rf /y\")'");
    assert_eq!(one(&a, "rm").targets, [path("/y")]);
    let a = an("python3 -c 'import os; os.system(sys.argv[1])'");
    assert!(matches!(a.problems[..], [Problem::UnknownPayload { .. }]));
    let a = an("perl -e 'system(\"rm\", \"-rf\", \"/p\")'");
    assert_eq!(one(&a, "rm").targets, [path("/p")]);
}

#[test]
fn clients_reading_stdin_the_guard_cannot_see_send_unknown_sql() {
    let kinds = |a: &Analysis, p: &str| -> Vec<String> {
        one(a, p)
            .statements
            .iter()
            .map(|s| s.kind.clone())
            .collect()
    };
    // From a program whose output is not known.
    assert_eq!(
        kinds(&an("curl -s http://x/drop.sql | psql"), "psql"),
        ["unknown"]
    );
    assert_eq!(kinds(&an("echo 'SELECT 1' | psql"), "psql"), ["read-only"]);
    // At a terminal, a bare client is an interactive session.
    assert!(kinds(&an("psql -d app"), "psql").is_empty());
    // When the line's own stdin is a pipe the guard cannot see (`… | prodguard -- psql`).
    let c = Context {
        stdin_unknown: true,
        ..ctx()
    };
    let a = analyze("psql -d app", &c);
    assert_eq!(kinds(&a, "psql"), ["unknown"]);
    let a = analyze("sh -c 'psql -d app'", &c);
    assert_eq!(kinds(&a, "psql"), ["unknown"]);
    // A redirection decides, not the line's stdin.
    let a = analyze("psql -d app < /tmp/x.sql", &c);
    let st = &one(&a, "psql").statements;
    assert_eq!(st.len(), 1, "{st:?}");
    assert_eq!(st[0].text, "< /tmp/x.sql");
    let a = analyze("psql -d app -c 'SELECT 1'", &c);
    assert_eq!(kinds(&a, "psql"), ["read-only"]);
}

#[test]
fn heredoc_feeds_stdin_and_following_commands_are_seen() {
    let a = an("psql <<EOF && rm -rf /x\ndrop table t;\nEOF");
    assert_eq!(one(&a, "psql").stdin.as_deref(), Some("drop table t;\n"));
    assert_eq!(one(&a, "rm").targets, [path("/x")]);
    let a = an("mysql -u root <<< 'DROP DATABASE prod'");
    assert_eq!(
        one(&a, "mysql").stdin.as_deref(),
        Some("DROP DATABASE prod")
    );
    let a = an("echo 'FLUSHALL' | redis-cli -h cache1");
    assert_eq!(one(&a, "redis-cli").stdin.as_deref(), Some("FLUSHALL\n"));
    let a = an("psql < /tmp/dump.sql");
    assert_eq!(one(&a, "psql").stdin_file.as_deref(), Some("/tmp/dump.sql"));
    let a = an("cat <<EOF\n$(rm -rf /h)\nEOF");
    assert_eq!(one(&a, "rm").targets, [path("/h")]);
    let a = an("cat <<'EOF'\n$(rm -rf /h)\nEOF");
    assert!(a.invocations.iter().all(|i| i.program != "rm"));
}

#[test]
fn cd_changes_later_targets() {
    let a = an("cd /var/lib && rm -rf postgresql");
    assert_eq!(one(&a, "rm").targets, [path("/var/lib/postgresql")]);
    let a = an("cd / && rm -rf *");
    assert_eq!(one(&a, "rm").targets, [path("/*")]);
    let a = an("cd ~ ; rm -rf ../x");
    assert_eq!(one(&a, "rm").targets, [path("/home/x")]);
    let a = an("cd \"$D\" && rm -rf x");
    assert!(matches!(one(&a, "rm").targets[..], [Target::Unknown(_)]));
}

#[test]
fn variables_assigned_on_the_line_are_substituted() {
    let a = an("TMPDIR=/x rm -rf $TMPDIR/y");
    let rm = one(&a, "rm");
    assert_eq!(rm.targets, [path("/x/y")]);
    assert_eq!(rm.env, [("TMPDIR".to_owned(), "/x".to_owned())]);
    let a = an("X=/a; rm -rf $X");
    assert_eq!(one(&a, "rm").targets, [path("/a")]);
    let a = an("export X=/b && rm -rf \"$X\"/c");
    assert_eq!(one(&a, "rm").targets, [path("/b/c")]);
    let a = an("rm -rf \"$UNSET\"/x");
    assert_eq!(
        one(&a, "rm").targets,
        [Target::Unknown("\"$UNSET\"/x".to_owned())]
    );
    let a = an("rm -rf $(cat list) ~/tmp $HOME/y");
    assert_eq!(
        one(&a, "rm").targets,
        [
            Target::Unknown("$(cat list)".to_owned()),
            path("/home/me/tmp"),
            path("/home/me/y")
        ]
    );
}

#[test]
fn kubectl_value_options() {
    let a = an("kubectl -n prod delete ns x --grace-period=0 --force");
    let k = one(&a, "kubectl");
    assert_eq!(k.operands, ["delete", "ns", "x"]);
    assert!(k
        .options
        .contains(&("namespace".to_owned(), "prod".to_owned())));
    assert!(k
        .options
        .contains(&("grace-period".to_owned(), "0".to_owned())));
    assert!(k.flags.contains("force"));
    let a = an("kubectl exec -it web-0 -n prod -- rm -rf /data");
    let rm = one(&a, "rm");
    assert_eq!(rm.via, ["kubectl exec web-0"]);
    assert_eq!(rm.targets, [path("/data")]);
}

#[test]
fn dd_operands_are_targets_not_assignments() {
    let a = an("dd if=/dev/zero of=/dev/sda bs=1M");
    let dd = one(&a, "dd");
    assert_eq!(dd.operands, ["if=/dev/zero", "of=/dev/sda", "bs=1M"]);
    assert_eq!(dd.targets, [path("/dev/sda"), path("/dev/zero")]);
    assert!(dd.env.is_empty());
}

#[test]
fn redirections() {
    let a = an("echo hi > /etc/passwd 2>&1");
    let e = one(&a, "echo");
    assert_eq!(
        e.redirects,
        [Redirect {
            fd: 1,
            target: path("/etc/passwd"),
            append: false
        }]
    );
    let a = an("echo hi >> log 2>/dev/null");
    assert_eq!(
        one(&a, "echo").redirects,
        [Redirect {
            fd: 1,
            target: path("/home/me/work/log"),
            append: true
        }]
    );
    let a = an("{ echo a; echo b; } > /etc/x");
    assert!(a.invocations.iter().all(|i| i.redirects.len() == 1));
    let a = an("> /etc/shadow");
    assert_eq!(a.invocations[0].redirects[0].target, path("/etc/shadow"));
}

#[test]
fn wrappers_unwrap() {
    for (text, via) in [
        (
            "env -i FOO=1 nice -n 10 ionice -c 3 nohup timeout -s KILL 10s rm -rf /w",
            vec!["env", "nice", "ionice", "nohup", "timeout"],
        ),
        ("\\rm -rf /w", vec![]),
        ("/bin/rm -rf /w", vec![]),
        ("busybox rm -rf /w", vec!["busybox"]),
        ("command rm -rf /w", vec!["command"]),
        ("exec rm -rf /w", vec!["exec"]),
        ("time -p rm -rf /w", vec!["time -p"]),
        ("stdbuf -oL rm -rf /w", vec!["stdbuf"]),
        ("watch -n 5 rm -rf /w", vec!["watch"]),
        ("doas rm -rf /w", vec!["doas"]),
        ("su - postgres -c 'rm -rf /w'", vec!["su"]),
        ("runuser -u app -- rm -rf /w", vec!["runuser"]),
        ("env -S 'rm -rf' /w", vec!["env"]),
        ("docker exec -u root c1 rm -rf /w", vec!["docker exec c1"]),
    ] {
        let a = an(text);
        let rm = one(&a, "rm");
        assert_eq!(rm.via, via, "{text}");
        assert!(rm.flags.contains("recursive"), "{text}");
        if !text.starts_with("docker") {
            assert_eq!(rm.targets, [path("/w")], "{text}");
        }
    }
    let a = an("/bin/rm -rf /w");
    assert_eq!(one(&a, "rm").program_word, "/bin/rm");
    assert_eq!(
        one(&an("su - postgres -c 'rm -rf /w'"), "rm")
            .run_as
            .as_deref(),
        Some("postgres")
    );
}

#[test]
fn control_structures_are_walked() {
    let a = an("for d in a b; do rm -rf /z/$d; done; if true; then shred -u /k; fi; while x; do y; done; f() { dd of=/dev/sdb; }; case $x in a) mkfs.ext4 /dev/sdc;; esac");
    for p in ["rm", "shred", "x", "y", "dd", "mkfs.ext4"] {
        one(&a, p);
    }
    assert_eq!(one(&a, "mkfs.ext4").targets, [path("/dev/sdc")]);
    // The loop's items are known: each is judged.
    assert_eq!(one(&a, "rm").targets, [path("/z/a")]);
    // The names `ls` writes: `/z/$d` is a name in /z.
    let a = an("for d in $(ls); do rm -rf /z/$d; done");
    assert_eq!(one(&a, "rm").targets, [path("/z")]);
    assert!(one(&a, "rm").runtime_roots.contains(&path("/z")));
}

#[test]
fn unparseable_text_is_scanned() {
    // Several lines: those before the error would run, so it stays unreadable.
    let a = an("rm -rf /x 'unclosed\nls");
    assert!(matches!(a.problems[..], [Problem::Unparseable { .. }]));
    let rm = one(&a, "rm");
    assert_eq!(rm.targets[0], path("/x"));
    let a = an("echo $(rm -rf /y");
    assert!(!a.problems.is_empty());
    one(&a, "rm");
}

#[test]
fn a_line_bash_rejects_is_said_so_and_still_scanned() {
    for text in ["echo a &;", "grep 'foo bar /etc/hosts", "ls )"] {
        let a = an(text);
        assert!(
            matches!(&a.problems[..], [Problem::ShellRejects { shell, .. }] if shell == "bash"),
            "{text}: {:?}",
            a.problems
        );
    }
    // What follows an unclosed quote is judged as commands too: typed at a prompt, the line
    // continues, and the rest of the command is checked alone.
    let a = an("echo 'x; rm -rf /y");
    assert_eq!(one(&a, "rm").targets, [path("/y")]);
    let a = an("rm -rf /x 'unclosed");
    assert_eq!(one(&a, "rm").targets[0], path("/x"));
}

#[test]
fn bounds_hold_without_crashing() {
    let deep = format!("echo {}x{}", "$(".repeat(3000), ")".repeat(3000));
    let a = an(&deep);
    assert!(matches!(a.problems[..], [Problem::Unparseable { .. }]));
    let braces = format!("{}true;{}", "{ ".repeat(3000), " }".repeat(3000));
    assert!(!an(&braces).problems.is_empty());
    let a = an("echo 99999999999>x");
    assert!(matches!(a.problems[..], [Problem::Unparseable { .. }]));
    let long = "a ".repeat(20_000);
    assert!(!an(&long).problems.is_empty());
    let nested = "bash -c ".repeat(40) + "'rm -rf /q'";
    let _ = an(&nested);
}

#[test]
fn program_text_is_the_simple_command() {
    let a = an("cd /tmp && sudo rm -rf build > out.txt; ls");
    assert_eq!(one(&a, "rm").text, "sudo rm -rf build > out.txt");
    assert_eq!(one(&a, "ls").text, "ls");
}

#[test]
fn database_clients_get_options() {
    let a = an("psql -h db1 -U postgres --command='DROP DATABASE x' -d app");
    let p = one(&a, "psql");
    assert!(p.options.contains(&("host".to_owned(), "db1".to_owned())));
    assert!(p
        .options
        .contains(&("command".to_owned(), "DROP DATABASE x".to_owned())));
    assert!(p.options.contains(&("dbname".to_owned(), "app".to_owned())));
}

#[test]
fn fd_held_in_a_variable_is_a_duplication_not_a_file() {
    for text in [
        "echo x >&\"${fd[1]}\"",
        "echo \"1/3\" >&\"${BC[1]}\"",
        "echo x >&$fd",
        "echo x 1>&${out}",
    ] {
        let a = an(text);
        assert!(one(&a, "echo").redirects.is_empty(), "{text}: {a:#?}");
    }
    // A word with more than the variable is a file name.
    let a = an("echo x >&\"$dir/log\"");
    assert_eq!(one(&a, "echo").redirects.len(), 1);
    let a = an("echo x >&/etc/passwd");
    assert_eq!(one(&a, "echo").redirects[0].target, path("/etc/passwd"));
}

#[test]
fn process_substitution_operand_is_a_pipe() {
    let a = an("echo example | tee >(xargs mkdir) >(wc -c)");
    assert_eq!(
        one(&a, "tee").targets,
        [path("/dev/fd/63"), path("/dev/fd/63")]
    );
    assert!(a.invocations.iter().any(|i| i.program == "mkdir"));
}

#[test]
fn partition_tool_options_follow_each_program() {
    // sfdisk -d is --dump (a read), not a delete.
    let a = an("sudo sfdisk -d /dev/sda");
    assert_eq!(flags(one(&a, "sfdisk")), ["dump"]);
    let a = an("sfdisk -N 2 --part-type /dev/sdb 83");
    assert!(one(&a, "sfdisk").flags.contains("partno"));
    assert_eq!(one(&a, "sfdisk").operands, ["/dev/sdb", "83"]);
    // sgdisk -l FILE is --load-backup (a write); -N NUM is --largest-new.
    let a = an("sgdisk -l /root/table.gpt /dev/sdb");
    assert_eq!(flags(one(&a, "sgdisk")), ["load-backup"]);
    assert_eq!(one(&a, "sgdisk").operands, ["/dev/sdb"]);
    let a = an("sgdisk -N 1 /dev/sdc");
    assert_eq!(flags(one(&a, "sgdisk")), ["largest-new"]);
    assert_eq!(one(&a, "sgdisk").targets, [path("/dev/sdc")]);
    let a = an("fdisk -l /dev/sda");
    assert_eq!(flags(one(&a, "fdisk")), ["list"]);
}

#[test]
fn pg_restore_clean_takes_no_value() {
    let a = an("pg_restore -c -d shop dump.custom");
    let p = one(&a, "pg_restore");
    assert!(p.flags.contains("clean"));
    assert!(p
        .options
        .contains(&("dbname".to_owned(), "shop".to_owned())));
    assert_eq!(p.operands, ["dump.custom"]);
}

#[test]
fn terragrunt_long_options_take_one_dash() {
    let a = an("terragrunt destroy -auto-approve -target=module.db");
    let t = one(&a, "terragrunt");
    assert!(t.flags.contains("auto-approve"));
    assert_eq!(t.operands, ["destroy"]);
}

#[test]
fn compose_file_option_takes_a_value() {
    for text in [
        "docker compose -f deploy/compose.yml down",
        "docker-compose -f deploy/compose.yml -p shop down",
        "podman compose --file deploy/compose.yml down",
    ] {
        let a = an(text);
        let inv = &a.invocations[0];
        assert!(inv.flags.contains("file"), "{text}");
        assert!(!inv.flags.contains("force"), "{text}");
        assert_eq!(
            inv.operands.last().map(String::as_str),
            Some("down"),
            "{text}"
        );
        assert!(
            !inv.operands.iter().any(|o| o.contains("compose.yml")),
            "{text}"
        );
    }
    // Outside compose, docker's -f is still --force.
    let a = an("docker rm -f web");
    assert!(one(&a, "docker").flags.contains("force"));
}

#[test]
fn global_options_of_ops_clis_take_values() {
    let a = an("vault -namespace=admin secrets disable kv/");
    assert_eq!(one(&a, "vault").operands, ["secrets", "disable", "kv/"]);
    let a = an("vault --namespace admin lease revoke -prefix aws/");
    let v = one(&a, "vault");
    assert_eq!(v.operands, ["lease", "revoke", "aws/"]);
    assert!(v.flags.contains("prefix"));
    let a = an("rabbitmqctl -n rabbit@mq2 stop_app");
    assert_eq!(one(&a, "rabbitmqctl").operands, ["stop_app"]);
    let a = an("restic -o s3.bucket-lookup=dns -r s3:host/b forget latest");
    assert_eq!(one(&a, "restic").operands, ["forget", "latest"]);
}

#[test]
fn a_shell_with_dash_s_reads_its_commands_from_the_pipe_even_with_operands() {
    let a = analyze(
        "curl -sSf https://example.com/install.sh | sh -s -- --yes",
        &ctx(),
    );
    assert!(
        a.problems
            .iter()
            .any(|p| matches!(p, Problem::UnknownPayload { program, .. } if program == "sh")),
        "{:?}",
        a.problems
    );
    // A script operand without -s: stdin is data for the script, not commands.
    let a = analyze("cat data.txt | bash ./process.sh", &ctx());
    assert!(a.problems.is_empty(), "{:?}", a.problems);
}

#[test]
fn nesting_inside_quotes_is_text_not_nesting() {
    let json = format!(
        "psql -c \"SELECT '{}{}'::json\"",
        "[".repeat(60),
        "]".repeat(60)
    );
    let a = an(&json);
    assert!(a.problems.is_empty(), "{:?}", a.problems);
    assert_eq!(one(&a, "psql").statements.len(), 1);
    let body = format!("echo '{}'", "if ( { case ".repeat(30));
    assert!(an(&body).problems.is_empty());
    // Real nesting still counts, also inside double quotes.
    let deep = format!("echo \"{}x{}\"", "$(".repeat(60), ")".repeat(60));
    assert!(matches!(
        an(&deep).problems[..],
        [Problem::Unparseable { .. }]
    ));
}

#[test]
fn unclosed_case_repeated_finishes_fail_closed() {
    for text in [
        "case x in a) ".repeat(24),
        "case x in ".repeat(24),
        format!("{}true", "case x in a) ".repeat(24)),
    ] {
        let t = std::time::Instant::now();
        let a = an(&text);
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "{text}");
        assert!(!a.problems.is_empty(), "{text}");
    }
}

#[test]
fn multibyte_text_never_panics() {
    for text in [
        "perl -i€ -e 'print'",
        "perl -pi€ -e 's/a/b/' f",
        "python3 -€c 'x'",
        "echo $((€",
        "echo $((€))",
        "echo \"$((€\"",
        "cat <<E\n$((€\nE",
        "cat <<E\n$((€",
        "x=$((1+€)); echo ${x:-$((€}",
        "{é,ü}",
        "a=(€ ü); \"${a[@]}\"",
    ] {
        let _ = an(text);
    }
    let a = an("perl -i€ -e 'system(\"rm -rf /x\")'");
    assert_eq!(one(&a, "rm").targets, [path("/x")]);
}

#[test]
fn every_analysis_has_a_work_bound() {
    // Each function calls the one before twice: 2^30 calls if walked naively.
    let mut text = String::from("f0() { rm -rf /w; }; ");
    for k in 1..=30 {
        text.push_str(&format!("f{k}() {{ f{0}; f{0}; }}; ", k - 1));
    }
    text.push_str("f30");
    let t = std::time::Instant::now();
    let a = an(&text);
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        a.problems
            .iter()
            .any(|p| matches!(p, Problem::Unparseable { reason } if reason.contains("bound"))),
        "{:?}",
        a.problems
    );
}

#[test]
fn words_split_and_expand_as_bash_does() {
    let a = an("A='-rf /x'; rm $A \"$A\"");
    let rm = one(&a, "rm");
    assert_eq!(rm.args, ["-rf", "/x", "-rf /x"]);
    let a = an("IFS=:; P=/a:/b; rm -rf $P");
    assert_eq!(one(&a, "rm").targets, [path("/a"), path("/b")]);
    let a = an("E=; rm -rf $E /y");
    assert_eq!(one(&a, "rm").args, ["-rf", "/y"]);
    let a = an("rm -rf /d/{a,b{1..2}}");
    assert_eq!(
        one(&a, "rm").targets,
        [path("/d/a"), path("/d/b1"), path("/d/b2")]
    );
    // Quoted braces and `find … {} \;` stay as written.
    let a = an("echo '{a,b}' {}");
    assert_eq!(one(&a, "echo").args, ["{a,b}", "{}"]);
    let a = an("a=(x 'y z'); b=(\"${a[@]}\"); printf '%s\\n' \"${b[@]}\" ${#a[@]} ${a[1]}");
    assert_eq!(one(&a, "printf").args, ["%s\\n", "x", "y z", "2", "y", "z"]);
}

#[test]
fn impure_substitutions_stay_unknown() {
    let a = an("$(cat /etc/cmd) -rf /x");
    let inv = &a.invocations[0];
    assert!(inv.program_unknown);
    assert_eq!(inv.targets, [path("/x")]);
    let a = an("rm -rf \"$(date +%F)\"");
    assert!(matches!(one(&a, "rm").targets[..], [Target::Unknown(_)]));
    let a = an("$(echo rm) -rf /x");
    assert!(!one(&a, "rm").program_unknown);
}

#[test]
fn functions_and_aliases_never_called_are_judged_as_written() {
    let a = an("cleanup() { rm -rf /srv/data; }");
    assert_eq!(one(&a, "rm").targets, [path("/srv/data")]);
    let a = an("alias ls='rm -rf /srv/data'");
    assert_eq!(one(&a, "rm").targets, [path("/srv/data")]);
    // Called: judged with the arguments, once.
    let a = an("f() { rm -rf \"$1\"; }; f /a; f /b");
    let rms: Vec<_> = a.invocations.iter().filter(|i| i.program == "rm").collect();
    assert_eq!(rms.len(), 2);
    assert_eq!(rms[1].targets, [path("/b")]);
}

#[test]
fn redis_socket_path_is_an_option_value_not_an_operand() {
    let a = an("redis-cli -s /run/redis.sock FLUSHALL");
    let r = one(&a, "redis-cli");
    assert_eq!(r.operands, ["FLUSHALL"]);
    assert!(r
        .options
        .contains(&("socket".to_owned(), "/run/redis.sock".to_owned())));
    assert_eq!(
        r.statements
            .iter()
            .map(|s| s.kind.as_str())
            .collect::<Vec<_>>(),
        ["flushall"]
    );
    // After the command every word is the command's, even one that looks like an option.
    let a = an("redis-cli -n 2 SET counter -1");
    assert_eq!(one(&a, "redis-cli").operands, ["SET", "counter", "-1"]);
}

/// The line judged as the shell integration sends it: with its report of the shell's own
/// variables (`PRODGUARD_SHELL_VARS`).
fn in_shell(text: &str, report: &str) -> Analysis {
    let mut c = ctx();
    c.env
        .push(("PRODGUARD_SHELL_VARS".to_owned(), report.to_owned()));
    c.env.push(("EXPORTED".to_owned(), "/srv/e".to_owned()));
    analyze(text, &c)
}

#[test]
fn the_shells_own_variables_decide_as_their_values() {
    let report = "D='/srv/data'\nunset GONE\nunknown ARR\ndeclare -x EXPORTED='/srv/e'\n0='-bash'";
    // Set, not exported: its value.
    let a = in_shell("rm -rf \"$D\"/", report);
    assert_eq!(one(&a, "rm").targets, [path("/srv/data")]);
    // Unset: empty, as bash expands it, so `"$GONE"/` is the root.
    let a = in_shell("rm -rf \"$GONE\"/", report);
    assert_eq!(one(&a, "rm").targets, [path("/")]);
    // An empty word names no file: nothing for rm to remove there, and find finds nothing.
    let a = in_shell("rm -rf \"$GONE\" /tmp/x", report);
    assert_eq!(one(&a, "rm").targets, [path("/tmp/x")]);
    let a = in_shell("find \"$GONE\" -type f -exec rm {} \\;", report);
    assert!(a.invocations.iter().all(|i| i.program != "rm"), "{a:#?}");
    // Not known (an array), or not mentioned: unknown, as without a report.
    for text in ["rm -rf \"$ARR\"/", "rm -rf \"$OTHER\"/"] {
        let a = in_shell(text, report);
        assert!(
            matches!(one(&a, "rm").targets.as_slice(), [Target::Unknown(_)]),
            "{text}: {a:#?}"
        );
    }
    // A shell started from the line has only the environment: the unexported D is unset
    // there, the exported one keeps its value.
    let a = in_shell("bash -c 'rm -rf \"$D\"/ \"$EXPORTED\"'", report);
    assert_eq!(one(&a, "rm").targets, [path("/"), path("/srv/e")]);
    // `$(dirname …)`, `$(basename …)` and `$(pwd)` of known words are known.
    let a = in_shell(
        "cd \"$(dirname \"$D\")\" && rm -rf \"$(pwd)/$(basename \"$D\")\"",
        report,
    );
    assert_eq!(one(&a, "rm").targets, [path("/srv/data")]);
    // Without a report nothing changes: the unset name is unknown.
    let a = an("rm -rf \"$GONE\"/");
    assert!(matches!(
        one(&a, "rm").targets.as_slice(),
        [Target::Unknown(_)]
    ));
}

#[test]
fn loops_bind_their_variable_when_the_items_are_known() {
    // Each known item is judged.
    let a = an("for d in /srv/a /var/lib/postgresql; do rm -rf \"$d\"; done");
    let rms: Vec<&Invocation> = a.invocations.iter().filter(|i| i.program == "rm").collect();
    assert_eq!(rms.len(), 2, "{a:#?}");
    assert_eq!(rms[1].targets, [path("/var/lib/postgresql")]);
    // Items not known: the variable is not known either.
    let a = an("for d in $(cat list); do rm -rf \"$d\"; done");
    assert!(matches!(
        one(&a, "rm").targets.as_slice(),
        [Target::Unknown(_)]
    ));
    // `find ROOT | while read f`: f is a path under ROOT.
    let a = an("find /var/lib/postgresql -name x | while IFS= read -r f; do rm -rf \"$f\"; done");
    let rm = one(&a, "rm");
    assert_eq!(rm.targets, [path("/var/lib/postgresql")]);
    assert_eq!(rm.runtime_roots, [path("/var/lib/postgresql")]);
    assert!(rm.dynamic_operands && rm.selects.is_some(), "{rm:#?}");
    let a = an("find . -type f | while read f; do cat \"$f\" > \"$f.bak\"; done");
    let cat = one(&a, "cat");
    assert_eq!(cat.redirects[0].target, path("/home/me/work/{}.bak"));
    // A read of two names, or of something else than found paths: not known.
    for text in [
        "find . | while read a b; do rm -rf \"$a\"; done",
        "cat list | while read f; do rm -rf \"$f\"; done",
    ] {
        let a = an(text);
        assert!(
            matches!(one(&a, "rm").targets.as_slice(), [Target::Unknown(_)]),
            "{text}: {a:#?}"
        );
    }
}

#[test]
fn a_backslash_ending_the_text_is_dropped_as_bash_drops_it() {
    let a = an("rm -rf /var/lib/postgresql \\");
    assert!(a.problems.is_empty(), "{a:#?}");
    assert_eq!(one(&a, "rm").targets, [path("/var/lib/postgresql")]);
    // An escaped backslash is a word.
    let a = an("echo a \\\\");
    assert_eq!(one(&a, "echo").args, ["a", "\\"]);
}

#[test]
fn which_and_pwd_in_a_substitution_are_what_they_print_now() {
    // PATH finds rm wherever this machine keeps it; the program is rm either way.
    for text in [
        "$(which rm) -rf /x",
        "`type -P rm` -rf /x",
        "$(command -v rm) -rf /x",
    ] {
        let a = an(text);
        let rm = one(&a, "rm");
        assert!(!rm.program_unknown, "{text}");
        assert_eq!(rm.targets, [path("/x")], "{text}");
    }
    // Nothing on PATH: `which` prints nothing, and the next word is the program.
    let a = an("$(which no-such-program-here) rm -rf /x");
    assert_eq!(one(&a, "rm").targets, [path("/x")]);
    // `command -v` names builtins too, which PATH does not know: not known.
    let a = an("$(command -v eval) 'rm -rf /x'");
    assert!(a.invocations.iter().any(|i| i.program_unknown), "{a:#?}");
    let a = analyze(
        "rm -rf \"$(pwd -P)\"/*",
        &Context {
            cwd: "/".to_owned(),
            ..ctx()
        },
    );
    assert_eq!(one(&a, "rm").targets, [path("/*")]);
}
