//! Per-program option tables: which options take a value, and their canonical names.
//!
//! The generic rule (GNU style, options may follow operands): `--name=value` is flag `name`
//! with option (`name`, `value`); `--name` a flag; `-abc` flags `a`, `b`, `c`; `--` ends
//! options. A short option that takes a value must be listed here, or its value would be
//! mistaken for an operand (`kubectl -n prod delete ns x`).

use std::collections::BTreeSet;

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A flag.
    No,
    /// A value, attached (`-nprod`, `--ns=prod`) or in the next word.
    Req,
    /// A value only when attached (`mysql -pSECRET`, `--dry-run=server`).
    Opt,
}
use Arg::{No, Opt, Req};

type Short = &'static [(char, &'static str, Arg)];
type Long = &'static [(&'static str, &'static str, Arg)];

/// The option table of one program.
#[derive(Debug)]
pub(crate) struct Spec {
    short: Short,
    long: Long,
    /// Long options take one dash (`terraform -auto-approve`, `find -name`).
    single_dash_long: bool,
}

const fn spec(short: Short, long: Long) -> Spec {
    Spec {
        short,
        long,
        single_dash_long: false,
    }
}

static GENERIC: Spec = spec(&[], &[]);

static RM: Spec = spec(
    &[
        ('r', "recursive", No),
        ('R', "recursive", No),
        ('f', "force", No),
        ('i', "interactive", No),
        ('I', "interactive-once", No),
        ('d', "dir", No),
        ('v', "verbose", No),
    ],
    &[("interactive", "interactive", Opt)],
);
static CP: Spec = spec(
    &[
        ('r', "recursive", No),
        ('R', "recursive", No),
        ('f', "force", No),
        ('i', "interactive", No),
        ('n', "no-clobber", No),
        ('a', "archive", No),
        ('t', "target-directory", Req),
        ('T', "no-target-directory", No),
        ('S', "suffix", Req),
        ('v', "verbose", No),
        ('u', "update", No),
        ('b', "backup", No),
    ],
    &[
        ("target-directory", "target-directory", Req),
        ("suffix", "suffix", Req),
        ("backup", "backup", Opt),
    ],
);
static CHMOD: Spec = spec(
    &[
        ('R', "recursive", No),
        ('v', "verbose", No),
        ('c', "changes", No),
        ('f', "silent", No),
        ('h', "no-dereference", No),
    ],
    &[("reference", "reference", Req), ("from", "from", Req)],
);
static RSYNC: Spec = spec(
    &[
        ('a', "archive", No),
        ('r', "recursive", No),
        ('n', "dry-run", No),
        ('e', "rsh", Req),
        ('f', "filter", Req),
        ('T', "temp-dir", Req),
    ],
    &[
        ("rsh", "rsh", Req),
        ("exclude", "exclude", Req),
        ("include", "include", Req),
        ("filter", "filter", Req),
        ("exclude-from", "exclude-from", Req),
        ("files-from", "files-from", Req),
        ("rsync-path", "rsync-path", Req),
        ("backup-dir", "backup-dir", Req),
        ("port", "port", Req),
        ("log-file", "log-file", Req),
        ("chmod", "chmod", Req),
        ("chown", "chown", Req),
        ("timeout", "timeout", Req),
        ("bwlimit", "bwlimit", Req),
        ("password-file", "password-file", Req),
        ("link-dest", "link-dest", Req),
        ("compare-dest", "compare-dest", Req),
        ("max-size", "max-size", Req),
        ("min-size", "min-size", Req),
        ("del", "del", No),
        ("delete", "delete", No),
        ("delete-before", "delete-before", No),
        ("delete-during", "delete-during", No),
        ("delete-delay", "delete-delay", No),
        ("delete-after", "delete-after", No),
        ("delete-excluded", "delete-excluded", No),
        ("delete-missing-args", "delete-missing-args", No),
        ("remove-source-files", "remove-source-files", No),
    ],
);
static SHRED: Spec = spec(
    &[
        ('u', "remove", No),
        ('n', "iterations", Req),
        ('z', "zero", No),
        ('f', "force", No),
        ('s', "size", Req),
        ('x', "exact", No),
        ('v', "verbose", No),
    ],
    &[
        ("remove", "remove", Opt),
        ("iterations", "iterations", Req),
        ("size", "size", Req),
    ],
);
static SETFACL: Spec = spec(
    &[
        ('R', "recursive", No),
        ('m', "modify", Req),
        ('x', "remove", Req),
        ('M', "modify-file", Req),
        ('X', "remove-file", Req),
        ('b', "remove-all", No),
        ('k', "remove-default", No),
        ('d', "default", No),
    ],
    &[
        ("recursive", "recursive", No),
        ("modify", "modify", Req),
        ("remove", "remove", Req),
        ("set", "set", Req),
        ("modify-file", "modify-file", Req),
        ("remove-file", "remove-file", Req),
        ("set-file", "set-file", Req),
        ("remove-all", "remove-all", No),
        ("remove-default", "remove-default", No),
    ],
);
static TRUNCATE: Spec = spec(
    &[
        ('s', "size", Req),
        ('r', "reference", Req),
        ('c', "no-create", No),
        ('o', "io-blocks", No),
    ],
    &[("size", "size", Req), ("reference", "reference", Req)],
);
static MKFS: Spec = spec(
    &[
        ('t', "type", Req),
        ('L', "label", Req),
        ('b', "block-size", Req),
        ('F', "force", No),
        ('f', "force", No),
        ('O', "features", Req),
        ('E', "extended-options", Req),
        ('m', "reserved-blocks", Req),
        ('N', "inodes", Req),
        ('i', "bytes-per-inode", Req),
        ('I', "inode-size", Req),
        ('U', "uuid", Req),
        ('n', "label", Req),
    ],
    &[],
);
static KUBECTL: Spec = spec(
    &[
        ('n', "namespace", Req),
        ('l', "selector", Req),
        ('f', "filename", Req),
        ('o', "output", Req),
        ('A', "all-namespaces", No),
        ('R', "recursive", No),
        ('c', "container", Req),
        ('k', "kustomize", Req),
        ('s', "server", Req),
        ('i', "stdin", No),
        ('t', "tty", No),
    ],
    &[
        ("namespace", "namespace", Req),
        ("context", "context", Req),
        ("selector", "selector", Req),
        ("filename", "filename", Req),
        ("output", "output", Req),
        ("grace-period", "grace-period", Req),
        ("dry-run", "dry-run", Opt),
        ("kubeconfig", "kubeconfig", Req),
        ("cluster", "cluster", Req),
        ("user", "user", Req),
        ("server", "server", Req),
        ("container", "container", Req),
        ("field-selector", "field-selector", Req),
        ("timeout", "timeout", Req),
        ("wait", "wait", Opt),
        ("cascade", "cascade", Opt),
        ("ignore-not-found", "ignore-not-found", Opt),
        ("replicas", "replicas", Req),
        ("image", "image", Req),
        ("type", "type", Req),
        ("token", "token", Req),
        ("as", "as", Req),
        ("request-timeout", "request-timeout", Req),
        ("kustomize", "kustomize", Req),
        ("all", "all", No),
        ("force", "force", No),
        ("prune", "prune", No),
        ("disable-eviction", "disable-eviction", No),
        ("delete-emptydir-data", "delete-emptydir-data", No),
        ("delete-local-data", "delete-local-data", No),
    ],
);
static HELM: Spec = spec(
    &[
        ('n', "namespace", Req),
        ('f', "values", Req),
        ('o', "output", Req),
    ],
    &[
        ("namespace", "namespace", Req),
        ("kube-context", "kube-context", Req),
        ("values", "values", Req),
        ("set", "set", Req),
        ("set-string", "set-string", Req),
        ("version", "version", Req),
        ("timeout", "timeout", Req),
        ("dry-run", "dry-run", Opt),
        ("kubeconfig", "kubeconfig", Req),
        ("output", "output", Req),
        ("repo", "repo", Req),
    ],
);
static TERRAFORM: Spec = Spec {
    short: &[],
    long: &[
        ("target", "target", Req),
        ("var", "var", Req),
        ("var-file", "var-file", Req),
        ("chdir", "chdir", Req),
        ("state", "state", Req),
        ("out", "out", Req),
        ("replace", "replace", Req),
        ("parallelism", "parallelism", Req),
        ("backend-config", "backend-config", Req),
        ("lock", "lock", Opt),
        ("input", "input", Opt),
        ("refresh", "refresh", Opt),
        ("auto-approve", "auto-approve", No),
    ],
    single_dash_long: true,
};
static DOCKER: Spec = spec(
    &[
        ('f', "force", No),
        ('a', "all", No),
        ('v', "volumes", No),
        ('e', "env", Req),
        ('u', "user", Req),
        ('w', "workdir", Req),
        ('p', "publish", Req),
        ('H', "host", Req),
        ('c', "context", Req),
        ('l', "label", Req),
    ],
    &[
        ("filter", "filter", Req),
        ("env", "env", Req),
        ("env-file", "env-file", Req),
        ("user", "user", Req),
        ("workdir", "workdir", Req),
        ("name", "name", Req),
        ("publish", "publish", Req),
        ("network", "network", Req),
        ("host", "host", Req),
        ("context", "context", Req),
        ("volume", "volume", Req),
        ("mount", "mount", Req),
        ("entrypoint", "entrypoint", Req),
        ("time", "time", Req),
        ("label", "label", Req),
        ("format", "format", Req),
    ],
);
static GIT: Spec = spec(
    &[
        ('C', "directory", Req),
        ('c', "config", Req),
        ('m', "message", Req),
        ('b', "branch", Req),
        ('f', "force", No),
        ('F', "file", Req),
        ('o', "push-option", Req),
    ],
    &[
        ("git-dir", "git-dir", Req),
        ("work-tree", "work-tree", Req),
        ("message", "message", Req),
        ("force-with-lease", "force-with-lease", Opt),
        ("file", "file", Req),
        ("exec-path", "exec-path", Opt),
        ("delete", "delete", No),
        ("mirror", "mirror", No),
        ("prune", "prune", No),
        ("force-if-includes", "force-if-includes", No),
        ("dry-run", "dry-run", No),
        ("staged", "staged", No),
    ],
);
static SYSTEMCTL: Spec = spec(
    &[
        ('H', "host", Req),
        ('M', "machine", Req),
        ('t', "type", Req),
        ('s', "signal", Req),
        ('p', "property", Req),
        ('n', "lines", Req),
        ('o', "output", Req),
        ('f', "force", No),
    ],
    &[
        ("host", "host", Req),
        ("machine", "machine", Req),
        ("type", "type", Req),
        ("signal", "signal", Req),
        ("kill-whom", "kill-whom", Req),
        ("property", "property", Req),
    ],
);
static AWS: Spec = spec(
    &[],
    &[
        ("profile", "profile", Req),
        ("region", "region", Req),
        ("output", "output", Req),
        ("query", "query", Req),
        ("endpoint-url", "endpoint-url", Req),
        ("include", "include", Req),
        ("exclude", "exclude", Req),
        ("bucket", "bucket", Req),
        ("key", "key", Req),
        ("db-instance-identifier", "db-instance-identifier", Req),
        ("instance-ids", "instance-ids", Req),
        ("stack-name", "stack-name", Req),
        ("cluster", "cluster", Req),
        ("function-name", "function-name", Req),
        ("table-name", "table-name", Req),
    ],
);
static GCLOUD: Spec = spec(
    &[('q', "quiet", No)],
    &[
        ("project", "project", Req),
        ("zone", "zone", Req),
        ("region", "region", Req),
        ("format", "format", Req),
        ("account", "account", Req),
        ("configuration", "configuration", Req),
        ("instance", "instance", Req),
    ],
);
static AZ: Spec = spec(
    &[
        ('g', "resource-group", Req),
        ('n', "name", Req),
        ('o', "output", Req),
        ('y', "yes", No),
    ],
    &[
        ("resource-group", "resource-group", Req),
        ("name", "name", Req),
        ("subscription", "subscription", Req),
        ("output", "output", Req),
        ("query", "query", Req),
    ],
);
static PSQL: Spec = spec(
    &[
        ('h', "host", Req),
        ('p', "port", Req),
        ('U', "username", Req),
        ('d', "dbname", Req),
        ('c', "command", Req),
        ('f', "file", Req),
        ('v', "set", Req),
        ('o', "output", Req),
        ('L', "log-file", Req),
        ('P', "pset", Req),
        ('T', "table-attr", Req),
        ('F', "field-separator", Req),
        ('R', "record-separator", Req),
        ('1', "single-transaction", No),
        ('X', "no-psqlrc", No),
    ],
    &[
        ("host", "host", Req),
        ("port", "port", Req),
        ("username", "username", Req),
        ("dbname", "dbname", Req),
        ("command", "command", Req),
        ("file", "file", Req),
        ("set", "set", Req),
        ("variable", "set", Req),
        ("output", "output", Req),
        ("log-file", "log-file", Req),
        ("pset", "pset", Req),
    ],
);
static MYSQL: Spec = spec(
    &[
        ('h', "host", Req),
        ('u', "user", Req),
        ('p', "password", Opt),
        ('e', "execute", Req),
        ('D', "database", Req),
        ('P', "port", Req),
        ('S', "socket", Req),
        ('B', "batch", No),
        ('N', "skip-column-names", No),
        ('f', "force", No),
    ],
    &[
        ("host", "host", Req),
        ("user", "user", Req),
        ("password", "password", Opt),
        ("execute", "execute", Req),
        ("database", "database", Req),
        ("port", "port", Req),
        ("socket", "socket", Req),
        ("defaults-file", "defaults-file", Req),
        ("defaults-extra-file", "defaults-extra-file", Req),
    ],
);
static REDIS: Spec = spec(
    &[
        ('h', "host", Req),
        ('p', "port", Req),
        ('a', "pass", Req),
        ('n', "db", Req),
        ('u', "uri", Req),
        ('r', "repeat", Req),
        ('i', "interval", Req),
        ('c', "cluster", No),
    ],
    &[
        ("user", "user", Req),
        ("pass", "pass", Req),
        ("pattern", "pattern", Req),
        ("eval", "eval", Req),
        ("cacert", "cacert", Req),
    ],
);
static MONGO: Spec = spec(
    &[
        ('u', "username", Req),
        ('p', "password", Req),
        ('f', "file", Req),
    ],
    &[
        ("host", "host", Req),
        ("port", "port", Req),
        ("username", "username", Req),
        ("password", "password", Req),
        ("eval", "eval", Req),
        ("file", "file", Req),
        ("authenticationDatabase", "authenticationDatabase", Req),
    ],
);
pub(crate) static SSH: Spec = spec(
    &[
        ('p', "port", Req),
        ('i', "identity", Req),
        ('l', "login", Req),
        ('o', "option", Req),
        ('F', "config", Req),
        ('J', "jump", Req),
        ('L', "local-forward", Req),
        ('R', "remote-forward", Req),
        ('D', "dynamic-forward", Req),
        ('b', "bind-address", Req),
        ('c', "cipher", Req),
        ('E', "log-file", Req),
        ('e', "escape-char", Req),
        ('m', "mac", Req),
        ('O', "control", Req),
        ('Q', "query", Req),
        ('S', "control-path", Req),
        ('W', "stdio-forward", Req),
        ('w', "tunnel", Req),
        ('B', "bind-interface", Req),
    ],
    &[],
);
static CURL: Spec = spec(
    &[
        ('X', "request", Req),
        ('d', "data", Req),
        ('H', "header", Req),
        ('u', "user", Req),
        ('o', "output", Req),
        ('A', "user-agent", Req),
        ('F', "form", Req),
        ('e', "referer", Req),
        ('b', "cookie", Req),
        ('c', "cookie-jar", Req),
        ('x', "proxy", Req),
        ('T', "upload-file", Req),
        ('w', "write-out", Req),
        ('m', "max-time", Req),
        ('r', "range", Req),
        ('E', "cert", Req),
        ('K', "config", Req),
        ('s', "silent", No),
        ('S', "show-error", No),
        ('L', "location", No),
        ('k', "insecure", No),
        ('f', "fail", No),
    ],
    &[
        ("request", "request", Req),
        ("data", "data", Req),
        ("data-raw", "data-raw", Req),
        ("data-binary", "data-binary", Req),
        ("data-urlencode", "data-urlencode", Req),
        ("header", "header", Req),
        ("user", "user", Req),
        ("output", "output", Req),
        ("form", "form", Req),
        ("json", "json", Req),
        ("upload-file", "upload-file", Req),
        ("url", "url", Req),
        ("max-time", "max-time", Req),
        ("connect-timeout", "connect-timeout", Req),
        ("retry", "retry", Req),
        ("cert", "cert", Req),
        ("key", "key", Req),
        ("cacert", "cacert", Req),
        ("proxy", "proxy", Req),
        ("user-agent", "user-agent", Req),
        ("write-out", "write-out", Req),
        ("resolve", "resolve", Req),
    ],
);
static IPTABLES: Spec = spec(
    &[
        ('A', "append", Req),
        ('D', "delete", Req),
        ('I', "insert", Req),
        ('R', "replace", Req),
        ('F', "flush", No),
        ('X', "delete-chain", No),
        ('P', "policy", Req),
        ('N', "new-chain", Req),
        ('t', "table", Req),
        ('j', "jump", Req),
        ('p', "protocol", Req),
        ('s', "source", Req),
        ('d', "destination", Req),
        ('i', "in-interface", Req),
        ('o', "out-interface", Req),
        ('m', "match", Req),
        ('L', "list", No),
        ('Z', "zero", No),
    ],
    &[
        ("append", "append", Req),
        ("delete", "delete", Req),
        ("insert", "insert", Req),
        ("replace", "replace", Req),
        ("policy", "policy", Req),
        ("new-chain", "new-chain", Req),
        ("table", "table", Req),
        ("jump", "jump", Req),
        ("protocol", "protocol", Req),
        ("source", "source", Req),
        ("destination", "destination", Req),
        ("match", "match", Req),
        ("dport", "dport", Req),
        ("sport", "sport", Req),
        ("to-destination", "to-destination", Req),
        ("to-source", "to-source", Req),
        ("state", "state", Req),
        ("ctstate", "ctstate", Req),
        ("comment", "comment", Req),
    ],
);
static IP: Spec = spec(
    &[
        ('n', "netns", Req),
        ('f', "family", Req),
        ('b', "batch", Req),
    ],
    &[],
);
static KILL: Spec = spec(
    &[
        ('s', "signal", Req),
        ('n', "signal", Req),
        ('l', "list", No),
    ],
    &[("signal", "signal", Req)],
);
static PKILL: Spec = spec(
    &[
        ('f', "full", No),
        ('u', "euid", Req),
        ('U', "uid", Req),
        ('g', "pgroup", Req),
        ('G', "group", Req),
        ('P', "parent", Req),
        ('s', "session", Req),
        ('t', "terminal", Req),
        ('x', "exact", No),
    ],
    &[("signal", "signal", Req)],
);
static KILLALL: Spec = spec(
    &[
        ('s', "signal", Req),
        ('u', "user", Req),
        ('y', "younger-than", Req),
        ('o', "older-than", Req),
        ('i', "interactive", No),
        ('e', "exact", No),
        ('r', "regexp", No),
        ('w', "wait", No),
    ],
    &[("signal", "signal", Req), ("user", "user", Req)],
);
static CRONTAB: Spec = spec(
    &[
        ('r', "remove", No),
        ('e', "edit", No),
        ('l', "list", No),
        ('u', "user", Req),
    ],
    &[],
);
static USERDEL: Spec = spec(
    &[
        ('r', "remove", No),
        ('f', "force", No),
        ('R', "root", Req),
        ('P', "prefix", Req),
    ],
    &[("root", "root", Req), ("prefix", "prefix", Req)],
);
static PASSWD: Spec = spec(
    &[
        ('d', "delete", No),
        ('l', "lock", No),
        ('u', "unlock", No),
        ('e', "expire", No),
        ('S', "status", No),
        ('n', "mindays", Req),
        ('x', "maxdays", Req),
        ('w', "warndays", Req),
        ('i', "inactive", Req),
        ('R', "root", Req),
    ],
    &[("root", "root", Req)],
);
static TAR: Spec = spec(
    &[
        ('f', "file", Req),
        ('C', "directory", Req),
        ('T', "files-from", Req),
        ('X', "exclude-from", Req),
        ('c', "create", No),
        ('x', "extract", No),
        ('t', "list", No),
        ('z', "gzip", No),
        ('j', "bzip2", No),
        ('J', "xz", No),
        ('v', "verbose", No),
    ],
    &[
        ("file", "file", Req),
        ("directory", "directory", Req),
        ("exclude", "exclude", Req),
        ("files-from", "files-from", Req),
    ],
);
static LN: Spec = spec(
    &[
        ('s', "symbolic", No),
        ('f', "force", No),
        ('t', "target-directory", Req),
        ('S', "suffix", Req),
    ],
    &[("target-directory", "target-directory", Req)],
);
static INSTALL: Spec = spec(
    &[
        ('m', "mode", Req),
        ('o', "owner", Req),
        ('g', "group", Req),
        ('t', "target-directory", Req),
        ('S', "suffix", Req),
        ('d', "directory", No),
    ],
    &[("target-directory", "target-directory", Req)],
);
static TEE: Spec = spec(&[('a', "append", No)], &[]);
static WIPEFS: Spec = spec(
    &[
        ('a', "all", No),
        ('f', "force", No),
        ('o', "offset", Req),
        ('t', "types", Req),
        ('n', "no-act", No),
    ],
    &[("offset", "offset", Req), ("types", "types", Req)],
);
/// fdisk, gdisk, cfdisk, cgdisk: interactive editors; only listing and a few settings are options.
static FDISK: Spec = spec(
    &[
        ('b', "sector-size", Req),
        ('c', "compatibility", Opt),
        ('C', "cylinders", Req),
        ('H', "heads", Req),
        ('S', "sectors", Req),
        ('L', "color", Opt),
        ('l', "list", No),
        ('x', "list-details", No),
        ('o', "output", Req),
        ('s', "getsz", No),
        ('t', "type", Req),
        ('u', "units", Opt),
        ('w', "wipe", Req),
        ('W', "wipe-partitions", Req),
        ('z', "zero", No),
        ('r', "read-only", No),
    ],
    &[
        ("sector-size", "sector-size", Req),
        ("output", "output", Req),
        ("type", "type", Req),
        ("wipe", "wipe", Req),
        ("wipe-partitions", "wipe-partitions", Req),
    ],
);
/// sfdisk: `-d` is `--dump` (a read), `-N` selects a partition; `--delete` has no short form.
static SFDISK: Spec = spec(
    &[
        ('A', "activate", No),
        ('d', "dump", No),
        ('g', "show-geometry", No),
        ('J', "json", No),
        ('l', "list", No),
        ('F', "list-free", No),
        ('r', "reorder", No),
        ('s', "show-size", No),
        ('T', "list-types", No),
        ('V', "verify", No),
        ('N', "partno", Req),
        ('a', "append", No),
        ('b', "backup", No),
        ('f', "force", No),
        ('n', "no-act", No),
        ('O', "backup-file", Req),
        ('o', "output", Req),
        ('q', "quiet", No),
        ('w', "wipe", Req),
        ('W', "wipe-partitions", Req),
        ('X', "label", Req),
        ('Y', "label-nested", Req),
        ('u', "unit", Req),
    ],
    &[
        ("partno", "partno", Req),
        ("backup-file", "backup-file", Req),
        ("output", "output", Req),
        ("wipe", "wipe", Req),
        ("wipe-partitions", "wipe-partitions", Req),
        ("label", "label", Req),
        ("label-nested", "label-nested", Req),
        ("unit", "unit", Req),
        ("color", "color", Opt),
        ("lock", "lock", Opt),
    ],
);
/// sgdisk (GPT fdisk, scriptable): `-l` is `--load-backup=FILE`, `-N` is `--largest-new=NUM`,
/// `-d`/`-n`/`-t`/`-c` take the partition they change.
static SGDISK: Spec = spec(
    &[
        ('a', "set-alignment", Req),
        ('A', "attributes", Req),
        ('b', "backup", Req),
        ('c', "change-name", Req),
        ('C', "recompute-chs", No),
        ('d', "delete", Req),
        ('D', "display-alignment", No),
        ('e', "move-second-header", No),
        ('E', "end-of-largest", No),
        ('f', "first-in-largest", No),
        ('F', "first-aligned-in-largest", No),
        ('g', "mbrtogpt", No),
        ('G', "randomize-guids", No),
        ('h', "hybrid", Req),
        ('i', "info", Req),
        ('j', "adjust-main-table", Req),
        ('l', "load-backup", Req),
        ('L', "list-types", No),
        ('m', "gpttombr", Req),
        ('n', "new", Req),
        ('N', "largest-new", Req),
        ('o', "clear", No),
        ('O', "print-mbr", No),
        ('p', "print", No),
        ('P', "pretend", No),
        ('r', "transpose", Req),
        ('R', "replicate", Req),
        ('s', "sort", No),
        ('t', "typecode", Req),
        ('u', "partition-guid", Req),
        ('U', "disk-guid", Req),
        ('v', "verify", No),
        ('V', "version", No),
        ('z', "zap", No),
        ('Z', "zap-all", No),
    ],
    &[
        ("set-alignment", "set-alignment", Req),
        ("attributes", "attributes", Req),
        ("backup", "backup", Req),
        ("change-name", "change-name", Req),
        ("delete", "delete", Req),
        ("hybrid", "hybrid", Req),
        ("info", "info", Req),
        ("adjust-main-table", "adjust-main-table", Req),
        ("load-backup", "load-backup", Req),
        ("gpttombr", "gpttombr", Req),
        ("new", "new", Req),
        ("largest-new", "largest-new", Req),
        ("transpose", "transpose", Req),
        ("replicate", "replicate", Req),
        ("typecode", "typecode", Req),
        ("partition-guid", "partition-guid", Req),
        ("disk-guid", "disk-guid", Req),
    ],
);
/// pg_restore and pg_dump: `-c` is `--clean` (no value), unlike psql's `-c COMMAND`.
static PG_RESTORE: Spec = spec(
    &[
        ('h', "host", Req),
        ('p', "port", Req),
        ('U', "username", Req),
        ('d', "dbname", Req),
        ('f', "file", Req),
        ('F', "format", Req),
        ('c', "clean", No),
        ('C', "create", No),
        ('a', "data-only", No),
        ('s', "schema-only", No),
        ('l', "list", No),
        ('L', "use-list", Req),
        ('n', "schema", Req),
        ('N', "exclude-schema", Req),
        ('t', "table", Req),
        ('T', "exclude-table", Req),
        ('I', "index", Req),
        ('P', "function", Req),
        ('j', "jobs", Req),
        ('S', "superuser", Req),
        ('E', "encoding", Req),
        ('Z', "compress", Req),
        ('e', "exit-on-error", No),
        ('1', "single-transaction", No),
        ('O', "no-owner", No),
        ('x', "no-privileges", No),
        ('v', "verbose", No),
        ('w', "no-password", No),
        ('W', "password", No),
    ],
    &[
        ("host", "host", Req),
        ("port", "port", Req),
        ("username", "username", Req),
        ("dbname", "dbname", Req),
        ("file", "file", Req),
        ("format", "format", Req),
        ("use-list", "use-list", Req),
        ("schema", "schema", Req),
        ("table", "table", Req),
        ("jobs", "jobs", Req),
    ],
);
/// docker/podman compose and docker-compose: `-f FILE`, `-p PROJECT` before the subcommand;
/// `down -v`, `rm -s -v`, `stop -t SECONDS` after it.
static COMPOSE: Spec = spec(
    &[
        ('f', "file", Req),
        ('p', "project-name", Req),
        ('v', "volumes", No),
        ('t', "timeout", Req),
        ('s', "stop", No),
        ('d', "detach", No),
        ('e', "env", Req),
        ('u', "user", Req),
        ('w', "workdir", Req),
    ],
    &[
        ("file", "file", Req),
        ("project-name", "project-name", Req),
        ("project-directory", "project-directory", Req),
        ("env-file", "env-file", Req),
        ("profile", "profile", Req),
        ("ansi", "ansi", Req),
        ("progress", "progress", Req),
        ("parallel", "parallel", Req),
        ("timeout", "timeout", Req),
        ("rmi", "rmi", Req),
        ("context", "context", Req),
        ("host", "host", Req),
        ("scale", "scale", Req),
    ],
);
static FIND: Spec = Spec {
    short: &[],
    long: &[
        ("name", "name", Req),
        ("iname", "iname", Req),
        ("path", "path", Req),
        ("ipath", "ipath", Req),
        ("wholename", "wholename", Req),
        ("regex", "regex", Req),
        ("iregex", "iregex", Req),
        ("type", "type", Req),
        ("xtype", "xtype", Req),
        ("mtime", "mtime", Req),
        ("mmin", "mmin", Req),
        ("atime", "atime", Req),
        ("amin", "amin", Req),
        ("ctime", "ctime", Req),
        ("cmin", "cmin", Req),
        ("size", "size", Req),
        ("user", "user", Req),
        ("group", "group", Req),
        ("perm", "perm", Req),
        ("maxdepth", "maxdepth", Req),
        ("mindepth", "mindepth", Req),
        ("newer", "newer", Req),
        ("printf", "printf", Req),
        ("fprint", "fprint", Req),
        ("inum", "inum", Req),
        ("links", "links", Req),
        ("uid", "uid", Req),
        ("gid", "gid", Req),
        ("fstype", "fstype", Req),
        ("samefile", "samefile", Req),
        ("lname", "lname", Req),
        ("used", "used", Req),
        ("context", "context", Req),
    ],
    single_dash_long: true,
};

/// vault (and OpenBao): Go-style flags, one dash, before or after the subcommand.
static VAULT: Spec = Spec {
    short: &[],
    long: &[
        ("namespace", "namespace", Req),
        ("ns", "namespace", Req),
        ("address", "address", Req),
        ("ca-cert", "ca-cert", Req),
        ("ca-path", "ca-path", Req),
        ("client-cert", "client-cert", Req),
        ("client-key", "client-key", Req),
        ("format", "format", Req),
        ("field", "field", Req),
        ("mount", "mount", Req),
        ("versions", "versions", Req),
        ("wrap-ttl", "wrap-ttl", Req),
        ("policy", "policy", Req),
        ("ttl", "ttl", Req),
        ("method", "method", Req),
        ("path", "path", Req),
        ("mode", "mode", Req),
        ("prefix", "prefix", No),
    ],
    single_dash_long: true,
};
static RABBITMQCTL: Spec = spec(
    &[
        ('n', "node", Req),
        ('p', "vhost", Req),
        ('t', "timeout", Req),
        ('q', "quiet", No),
        ('s', "silent", No),
        ('l', "longnames", No),
    ],
    &[
        ("node", "node", Req),
        ("vhost", "vhost", Req),
        ("timeout", "timeout", Req),
    ],
);
static RESTIC: Spec = spec(
    &[
        ('o', "option", Req),
        ('r', "repo", Req),
        ('p', "password-file", Req),
        ('n', "dry-run", No),
        ('v', "verbose", No),
        ('q', "quiet", No),
    ],
    &[
        ("option", "option", Req),
        ("repo", "repo", Req),
        ("repository-file", "repository-file", Req),
        ("password-file", "password-file", Req),
        ("password-command", "password-command", Req),
        ("cache-dir", "cache-dir", Req),
        ("key-hint", "key-hint", Req),
        ("tag", "tag", Req),
        ("host", "host", Req),
        ("path", "path", Req),
    ],
);

/// The table for `program` (a basename).
pub(crate) fn spec_for(program: &str) -> &'static Spec {
    match program {
        "rm" => &RM,
        "cp" | "mv" => &CP,
        "chmod" | "chown" | "chgrp" => &CHMOD,
        "setfacl" => &SETFACL,
        "rsync" => &RSYNC,
        "shred" => &SHRED,
        "truncate" => &TRUNCATE,
        "kubectl" | "oc" => &KUBECTL,
        "helm" => &HELM,
        "terraform" | "tofu" | "terragrunt" => &TERRAFORM,
        "docker" | "podman" => &DOCKER,
        "git" => &GIT,
        "systemctl" => &SYSTEMCTL,
        "aws" => &AWS,
        "gcloud" => &GCLOUD,
        "az" => &AZ,
        "psql" | "dropdb" | "createdb" => &PSQL,
        "pg_restore" | "pg_dump" => &PG_RESTORE,
        "mysql" | "mariadb" | "mysqldump" | "mysqladmin" => &MYSQL,
        "redis-cli" | "valkey-cli" => &REDIS,
        "mongosh" | "mongo" => &MONGO,
        "ssh" => &SSH,
        "curl" => &CURL,
        "iptables" | "ip6tables" => &IPTABLES,
        "ip" => &IP,
        "kill" => &KILL,
        "pkill" | "pgrep" => &PKILL,
        "killall" => &KILLALL,
        "crontab" => &CRONTAB,
        "userdel" => &USERDEL,
        "passwd" => &PASSWD,
        "tar" => &TAR,
        "ln" => &LN,
        "install" => &INSTALL,
        "tee" => &TEE,
        "wipefs" => &WIPEFS,
        "fdisk" | "gdisk" | "cfdisk" | "cgdisk" => &FDISK,
        "sfdisk" => &SFDISK,
        "vault" | "bao" => &VAULT,
        "rabbitmqctl" => &RABBITMQCTL,
        "restic" => &RESTIC,
        "sgdisk" => &SGDISK,
        "docker-compose" | "podman-compose" => &COMPOSE,
        "find" => &FIND,
        p if p.starts_with("mkfs") || p.starts_with("mke2fs") => &MKFS,
        _ => &GENERIC,
    }
}

/// What a flag name in a rule (`flags = ["recursive"]`) means for one program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleFlag {
    /// A name [`parse`] can report for this program.
    Known,
    /// A spelling [`parse`] reports under another name (`r` is `recursive` for rm): a rule
    /// naming it never matches.
    Alias(&'static str),
    /// Not in the program's table.
    Unknown,
}

/// The tables `program`'s arguments may be read with, or `None` when it has none (then any
/// flag name may be right).
fn tables_for(program: &str) -> Option<Vec<&'static Spec>> {
    let spec = spec_for(program);
    if std::ptr::eq(spec, &GENERIC) {
        return None;
    }
    let mut v = vec![spec];
    if matches!(program, "docker" | "podman") {
        v.push(&COMPOSE);
    }
    Some(v)
}

/// Flag names [`parse`] reports for `program` beyond its table (`--help` and `--version`, which
/// nearly every program has).
fn implied_names(program: &str) -> &'static [&'static str] {
    if matches!(program, "kill" | "pkill" | "killall") {
        &["help", "version", "signal"]
    } else {
        &["help", "version"]
    }
}

/// The flag names a rule can match for `program` (canonical names, as [`parse`] reports them),
/// or `None` when the program has no option table.
pub(crate) fn rule_flag_names(program: &str) -> Option<BTreeSet<&'static str>> {
    let tables = tables_for(program)?;
    let mut names: BTreeSet<&'static str> = implied_names(program).iter().copied().collect();
    for t in tables {
        names.extend(t.short.iter().map(|(_, c, _)| *c));
        names.extend(t.long.iter().map(|(_, c, _)| *c));
    }
    Some(names)
}

/// What the rule flag `name` (without dashes) means for `program`; `None` when the program has
/// no option table. A one-letter name that is not in the table is [`RuleFlag::Known`]: a short
/// option the table does not list is reported by its letter.
pub(crate) fn rule_flag(program: &str, name: &str) -> Option<RuleFlag> {
    let tables = tables_for(program)?;
    let names = rule_flag_names(program)?;
    if names.contains(name) {
        return Some(RuleFlag::Known);
    }
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        let canon = tables
            .iter()
            .find_map(|t| t.short.iter().find(|(s, _, _)| *s == c).map(|(_, n, _)| *n));
        return Some(canon.map_or(RuleFlag::Known, RuleFlag::Alias));
    }
    let canon = tables.iter().find_map(|t| {
        t.long
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, c, _)| *c)
    });
    Some(canon.map_or(RuleFlag::Unknown, RuleFlag::Alias))
}

/// Arguments split into flags, option values and operands.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub flags: BTreeSet<String>,
    pub options: Vec<(String, String)>,
    pub operands: Vec<String>,
    /// Indices into the argument list of each operand (for target resolution).
    pub operand_idx: Vec<usize>,
}

/// Parses `args` (after the program name) with the table of `program`.
pub(crate) fn parse(program: &str, args: &[String]) -> Parsed {
    let mut spec = spec_for(program);
    // `docker compose …` has the options of docker-compose (`-f FILE`, `-p NAME`), not docker's.
    let compose_host = matches!(program, "docker" | "podman" | "nerdctl");
    let mut p = Parsed::default();
    let signal_word = matches!(program, "kill" | "pkill" | "killall");
    let mut i = 0;
    // `tar xzf file`: the first word is a cluster of short options without the dash.
    let tar_cluster = program == "tar"
        && args
            .first()
            .is_some_and(|a| !a.starts_with('-') && a.bytes().all(|b| b.is_ascii_alphabetic()));
    let mut only_operands = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_operands || a == "-" || !(a.starts_with('-') || tar_cluster && i == 1) {
            if compose_host && p.operands.is_empty() && a == "compose" {
                spec = &COMPOSE;
            }
            p.operands.push(a.clone());
            p.operand_idx.push(i - 1);
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        if signal_word && i == 1 && is_signal(&a[1..]) {
            p.flags.insert("signal".to_owned());
            p.options.push(("signal".to_owned(), a[1..].to_owned()));
            continue;
        }
        let (long_body, is_long) = if let Some(body) = a.strip_prefix("--") {
            (body, true)
        } else if spec.single_dash_long && a.len() > 2 {
            (&a[1..], true)
        } else {
            ("", false)
        };
        if is_long {
            let (name, attached) = match long_body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long_body, None),
            };
            let (canon, kind) = spec
                .long
                .iter()
                .find(|(n, _, _)| *n == name)
                .map_or((name, No), |(_, c, k)| (*c, *k));
            p.flags.insert(canon.to_owned());
            match (attached, kind) {
                (Some(v), _) => p.options.push((canon.to_owned(), v.to_owned())),
                (None, Req) => {
                    if let Some(v) = args.get(i) {
                        p.options.push((canon.to_owned(), v.clone()));
                        i += 1;
                    }
                }
                (None, _) => {}
            }
            continue;
        }
        // Short cluster.
        let body = a.strip_prefix('-').unwrap_or(a);
        for (pos, c) in body.char_indices() {
            let (canon, kind) = spec
                .short
                .iter()
                .find(|(s, _, _)| *s == c)
                .map_or((None, No), |(_, n, k)| (Some(*n), *k));
            let name = canon.map_or_else(|| c.to_string(), str::to_owned);
            let rest = &body[pos + c.len_utf8()..];
            match kind {
                No => {
                    p.flags.insert(name);
                }
                Opt => {
                    if !rest.is_empty() {
                        p.options.push((name.clone(), rest.to_owned()));
                    }
                    p.flags.insert(name);
                    break;
                }
                Req => {
                    if !rest.is_empty() {
                        p.options.push((name.clone(), rest.to_owned()));
                    } else if let Some(v) = args.get(i) {
                        p.options.push((name.clone(), v.clone()));
                        i += 1;
                    }
                    p.flags.insert(name);
                    break;
                }
            }
        }
    }
    p
}

fn is_signal(s: &str) -> bool {
    !s.is_empty()
        && (s.bytes().all(|b| b.is_ascii_digit())
            || s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn value_options_do_not_become_operands() {
        let p = parse("kubectl", &args("-n prod delete ns x"));
        assert_eq!(p.operands, ["delete", "ns", "x"]);
        assert_eq!(p.options, [("namespace".to_owned(), "prod".to_owned())]);
        let p = parse("mysql", &args("-u root -psecret -e drop db"));
        assert_eq!(
            p.options,
            [
                ("user".to_owned(), "root".to_owned()),
                ("password".to_owned(), "secret".to_owned()),
                ("execute".to_owned(), "drop".to_owned())
            ]
        );
        assert_eq!(p.operands, ["db"]);
        let p = parse(
            "terraform",
            &args("destroy -auto-approve -target=a.b -var x=1"),
        );
        assert!(p.flags.contains("auto-approve"));
        assert_eq!(p.operands, ["destroy"]);
        assert_eq!(p.options.len(), 2);
    }

    #[test]
    fn signals_and_tar_clusters() {
        let p = parse("kill", &args("-9 123"));
        assert_eq!(p.options, [("signal".to_owned(), "9".to_owned())]);
        let p = parse("tar", &args("xzf a.tgz -C /srv"));
        assert!(p.flags.contains("extract"));
        assert_eq!(
            p.options,
            [
                ("file".to_owned(), "a.tgz".to_owned()),
                ("directory".to_owned(), "/srv".to_owned())
            ]
        );
    }
}
