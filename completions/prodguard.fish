# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_prodguard_global_optspecs
    string join \n host-file= policy-dir= audit-file= break-glass reason= h/help V/version
end

function __fish_prodguard_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_prodguard_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_prodguard_using_subcommand
    set -l cmd (__fish_prodguard_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c prodguard -n "__fish_prodguard_needs_command" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_needs_command" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_needs_command" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_needs_command" -l reason -d 'The reason for --break-glass (asked on the terminal when not given)' -r
complete -c prodguard -n "__fish_prodguard_needs_command" -l break-glass -d 'Start an emergency session: asks a reason, has the audit service record it and grant it to this session for host.toml break_glass_minutes (default 60), and reduces the checks to warnings'
complete -c prodguard -n "__fish_prodguard_needs_command" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_needs_command" -s V -l version -d 'Print version'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "check" -d 'Decide on a command for a shell hook: exit 0 to run it, 1 to refuse (reason on stderr)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "explain" -d 'Show how a command is parsed, which rules match and the verdict; asks and records nothing'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "policy" -d 'Tools for policy authors'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "demo" -d 'A tour of the embedded default policy on real dangerous and safe commands'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "init" -d 'Print the shell integration for bash or zsh (`eval "$(prodguard init bash)"`)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "intent" -d 'Declare the host you mean to work on: risky commands on any other host are refused'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "banner" -d 'Print the environment banner shown at login'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "prompt" -d 'Print the prompt segment (or terminal title) naming the environment and host, and BREAK-GLASS with its expiry in UTC while a break-glass grant covers the shell'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "report" -d 'Record how a command let through by the shell integration ended (exit status, duration)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "request" -d 'Ask for a second person\'s approval of a command (`prodguard request -- CMD`), or attach an approver\'s SSH signature (`--signature FILE`)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "requests" -d 'List the approval requests on this host (for approvers)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "approve" -d 'Approve a request after reading it in full and typing the host name; offline with `--blob … --sign KEY`'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "deny" -d 'Refuse a request, with the reason (the requester may withdraw their own)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "audit" -d 'Verify, search and summarise the audit log (for the security team)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "sql" -d 'Run a database client (psql, redis-cli) checking every statement before the server sees it'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "status" -d 'Show the host context, the policy files in force, the audit sinks\' health and the binary\'s mode'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "install" -d 'Print the steps that install prodguard on a host without the Debian package'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "daemon" -d 'Run the audit service, the one writer of the audit log (as root, started by systemd through prodguard.socket)'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "generate" -d 'Write the man page or the shell completions generated from this command line'
complete -c prodguard -n "__fish_prodguard_needs_command" -a "sudo-check" -d 'Judge a command sudo is about to run (called by the sudo approval plugin, as root): exit 0 to approve, 1 to refuse (reason on stderr)'
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -l json -d 'Print the verdict as JSON on stdout as well'
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -l hook -d 'Called from the interactive shell integration (recorded as such)'
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -l guard-root-shell -d 'When CMD opens a root shell (`sudo -i`, `sudo su -`, `su -`, `sudo bash`), print on stdout the line that opens it with this binary as its shell, for the integration to run instead'
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -l no-ask -d 'Never ask: refuse anything that needs a human (for scripts and CI)'
complete -c prodguard -n "__fish_prodguard_using_subcommand check" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l now -d 'Decide at this instant (RFC 3339, `2026-12-24T15:00:00+01:00`) instead of now: for time windows and freezes' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l user -d 'Decide as this user (groups from this host\'s databases) instead of yourself' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l ssh-from -d 'Decide as a session from this SSH client address (`local`: not over SSH)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l json -d 'Print JSON (one object per command)'
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -l stdin -d 'Read one command per line from standard input; print one JSON line each'
complete -c prodguard -n "__fish_prodguard_using_subcommand explain" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "lint" -d 'Check pack files and report every error as file:line:col (default: the embedded packs and the site pack directory)'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "test" -d 'Run every rule\'s embedded examples (`tests.match`, `tests.ignore`)'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "show" -d 'List the rules in force'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "replay" -d 'Replay audit logs through the policy in --policy-dir (the proposal) and the one installed (or --against): which commands would be newly denied, prompted or allowed'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "diff" -d 'Replay a history through two site pack directories and report what changes'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "coverage" -d 'Which rules matched anything in a history and which never did; rules without embedded examples are errors'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "fmt" -d 'Rewrite pack files in the canonical layout (comments are kept)'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and not __fish_seen_subcommand_from lint test show replay diff coverage fmt schema" -f -a "schema" -d 'Print the JSON Schema (draft 2020-12) of a policy pack, for editors'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from lint" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from lint" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from lint" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from lint" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from test" -l rule -d 'Only rules whose id starts with this' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from test" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from test" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from test" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Print every example, not only failures'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from show" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from show" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from show" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from show" -l json -d 'Print JSON'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from replay" -l audit -d 'Audit log files (`-` for standard input)' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from replay" -l against -d 'The current site pack directory [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from replay" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from replay" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from replay" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from replay" -l json -d 'Print JSON (for CI)'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from replay" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l commands -d 'A plain list of commands, one per line (`-` for standard input)' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l audit -d 'Audit log files: each command is replayed at its recorded time, by its recorded user' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l now -d 'For --commands: the instant to decide at (RFC 3339) [default: now]' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l user -d 'For --commands: decide as this user (groups from this host\'s databases) [default: an unknown user: scoped rules apply, exemptions do not]' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -l json -d 'Print JSON (for CI)'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l commands -d 'A plain list of commands, one per line (`-` for standard input)' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l audit -d 'Audit log files: each command is replayed at its recorded time, by its recorded user' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l now -d 'For --commands: the instant to decide at (RFC 3339) [default: now]' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l user -d 'For --commands: decide as this user (groups from this host\'s databases) [default: an unknown user: scoped rules apply, exemptions do not]' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -l json -d 'Print JSON (for CI)'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from coverage" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from fmt" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from fmt" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from fmt" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from fmt" -l check -d 'Change nothing; exit 1 when a file is not in the canonical layout'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from fmt" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from schema" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from schema" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from schema" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand policy; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand demo" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand demo" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand demo" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand demo" -s v -l verbose -d 'Print the full explain trace of every command'
complete -c prodguard -n "__fish_prodguard_using_subcommand demo" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand init" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand init" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand init" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand init" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand intent" -l reason -d 'Why (recorded in the audit log)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand intent" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand intent" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand intent" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand intent" -l clear -d 'Forget the declaration'
complete -c prodguard -n "__fish_prodguard_using_subcommand intent" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand banner" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand banner" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand banner" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand banner" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand prompt" -l shell -d 'Escape the colour codes for this shell\'s prompt' -r -f -a "bash\t''
zsh\t''
plain\t''"
complete -c prodguard -n "__fish_prodguard_using_subcommand prompt" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand prompt" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand prompt" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand prompt" -l title -d 'Print the terminal-title text instead of the prompt segment'
complete -c prodguard -n "__fish_prodguard_using_subcommand prompt" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -l status -d 'Exit status of the command' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -l integration -d 'The shell integration loaded in this shell (bash, zsh): recorded once per shell, for the session\'s records' -r -f -a "bash\t''
zsh\t''"
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -l started -d 'When it started ($EPOCHREALTIME: seconds since the epoch, with a fraction)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -l ended -d 'When it ended' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand report" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -l signature -d 'Attach an approver\'s SSH signature (a file, or - for stdin) to your pending request' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -l id -d 'With --signature: the request it is for [default: whichever of yours it verifies for]' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -l no-wait -d 'File the request and return at once instead of waiting for the decision'
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -l blob -d 'Also print the request as an armored blob, for an approver elsewhere to sign'
complete -c prodguard -n "__fish_prodguard_using_subcommand request" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand requests" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand requests" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand requests" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand requests" -l all -d 'Also list used, expired and denied requests'
complete -c prodguard -n "__fish_prodguard_using_subcommand requests" -l json -d 'One JSON object per request, on stdout'
complete -c prodguard -n "__fish_prodguard_using_subcommand requests" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand approve" -l blob -d 'Approve offline: the armored request blob (or - for stdin), decoded and shown in full' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand approve" -l sign -d 'With --blob: sign with this SSH key (`ssh-keygen -Y sign -n prodguard-approval -f KEY`) after the hostname is typed; the signature goes to stdout' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand approve" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand approve" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand approve" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand approve" -l decode -d 'With --blob: print the canonical request bytes (to sign with plain `ssh-keygen -Y sign`) and a description on stderr, without signing'
complete -c prodguard -n "__fish_prodguard_using_subcommand approve" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand deny" -l reason -d 'Why, for the requester and the audit log' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand deny" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand deny" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand deny" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand deny" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -f -a "verify" -d 'Verify the hash chain of the log and its rotations (oldest first)'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -f -a "keygen" -d 'Create the host key that signs checkpoints (if there is none) and publish its public half next to the log; prints the public key. Run as the log\'s writer (root)'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -f -a "search" -d 'Print the records that match every given criterion'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -f -a "stats" -d 'Count records by outcome, rule, user, host and event'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and not __fish_seen_subcommand_from verify keygen search stats tail" -f -a "tail" -d 'Print the last records of the log, and with -f new ones as they are written'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -l key -d 'The host\'s public key to check checkpoints against. Default: the audit.pub published next to the log (give the copy kept off the host to trust it)' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -l checkpoints -d 'The SIEM\'s copy of the checkpoint lines (syslog lines or JSON lines; other lines are skipped): every checkpoint in it must be in the log' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -l json -d 'Print the report as JSON'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -l show-key -d 'Print the public key checkpoints are checked against, and exit'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from keygen" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from keygen" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from keygen" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from keygen" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l user -d 'Only records of this user' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l host -d 'Only records from this host' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l rule -d 'Only records where this rule id matched' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l outcome -d 'Only records with this outcome (allowed, denied, confirmed, aborted, timed-out, …)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l event -d 'Only records of this event (command, approval, session, torn-tail, sink-failure)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l session -d 'Only records of this login session' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l since -d 'Records at or after this time: RFC 3339 (2026-11-23T18:00:00Z) or a date (2026-11-23)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l until -d 'Records before this time; a date means up to the end of that day (UTC)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l grep -d 'Only records whose command matches this regular expression' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l unguarded -d 'Only logins the shell integration did not guard: session ends where it never loaded, and logins whose shell has no integration'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -l json -d 'Print matching records as they are stored (JSON lines)'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from search" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l user -d 'Only records of this user' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l host -d 'Only records from this host' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l rule -d 'Only records where this rule id matched' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l outcome -d 'Only records with this outcome (allowed, denied, confirmed, aborted, timed-out, …)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l event -d 'Only records of this event (command, approval, session, torn-tail, sink-failure)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l session -d 'Only records of this login session' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l since -d 'Records at or after this time: RFC 3339 (2026-11-23T18:00:00Z) or a date (2026-11-23)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l until -d 'Records before this time; a date means up to the end of that day (UTC)' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l grep -d 'Only records whose command matches this regular expression' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l unguarded -d 'Only logins the shell integration did not guard: session ends where it never loaded, and logins whose shell has no integration'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -l json -d 'Print the counts as JSON'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from tail" -s n -l lines -d 'How many records to print first' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from tail" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from tail" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from tail" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from tail" -s f -l follow -d 'Keep printing records as they are appended (follows rotation)'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from tail" -l json -d 'Print records as stored (JSON lines)'
complete -c prodguard -n "__fish_prodguard_using_subcommand audit; and __fish_seen_subcommand_from tail" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand sql" -l aliases -d 'Print shell functions that route psql and redis-cli through `prodguard sql`, and exit' -r -f -a "bash\t''
zsh\t''"
complete -c prodguard -n "__fish_prodguard_using_subcommand sql" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand sql" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand sql" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand sql" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand status" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand status" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand status" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand status" -l json -d 'Print JSON (one object) instead of text'
complete -c prodguard -n "__fish_prodguard_using_subcommand status" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand install" -l bin -d 'Where the binary is installed' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand install" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand install" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand install" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand install" -l dry-run -d 'Print the installation steps as a shell script instead of running them (required: only the Debian package installs for real)'
complete -c prodguard -n "__fish_prodguard_using_subcommand install" -l sudo -d 'Print the /etc/sudo.conf line that enables the sudo approval plugin (nothing is changed)'
complete -c prodguard -n "__fish_prodguard_using_subcommand install" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand daemon" -l socket -d 'Listen on this socket instead of the one systemd passes [default: host.toml `[audit] socket`, else /run/prodguard/audit.sock]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand daemon" -l state-dir -d 'Directory of the service\'s state; the log is written there as audit.jsonl unless `--audit-file` or host.toml says otherwise [default: /var/lib/prodguard]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand daemon" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand daemon" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand daemon" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand daemon" -s h -l help -d 'Print help'
complete -c prodguard -n "__fish_prodguard_using_subcommand generate" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand generate" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand generate" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l user -d 'The user who ran sudo' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l uid -d 'Their uid' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l runas -d 'The user sudo runs the command as' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l cwd -d 'The directory the command runs in' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l tty -d 'The terminal sudo was started from' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l within -d 'Seconds the plugin waits for this checker before it gives up: a question is answered (or times out, refusing) well before that, whatever host.toml\'s prompt timeout says' -r
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l host-file -d 'Host description (environment, role, fleet) [default: /etc/prodguard/host.toml]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l policy-dir -d 'Directory of site policy packs [default: /etc/prodguard/policies.d]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l audit-file -d 'Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl]' -r -F
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l no-ask -d 'Ask nothing: sudo was run with -n (automation). What needs a human is refused'
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -l stdin-unseen -d 'sudo\'s stdin, which the command reads, is a pipe or a file nobody has seen'
complete -c prodguard -n "__fish_prodguard_using_subcommand sudo-check" -s h -l help -d 'Print help'
