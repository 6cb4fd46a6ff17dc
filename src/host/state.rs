//! Protected state: what this host cannot lose, found on the host itself rather than listed.
//!
//! A rule's `target = ["protected"]` asks this module whether a path (or a device, a process, a
//! unit, a volume group) is part of the host's state. The answer comes from what the host shows:
//!
//! - mount points of real filesystems other than `/` (not tmpfs, proc, sysfs, overlay, …), and
//!   their top directories; the devices behind every real mount, `/` included, and the disks
//!   and volume groups those devices live on;
//! - `/var/lib/*`, `/srv/*`, `/data*`, `/opt/*/data`, backup locations (`/backup*`,
//!   `/var/backups`, mounts named like backups);
//! - the data directories of database services, configured (`postgresql.conf`
//!   `data_directory`, `my.cnf` `datadir`, redis `dir`, `mongod.conf` `dbPath`) or running (a
//!   server process's working directory or `-D`/`--datadir`/`--dbpath`, `postmaster.pid`);
//! - docker and containerd volumes (`data-root` of `/etc/docker/daemon.json`);
//! - host.toml `protect = [...]`, minus `ignore = [...]` and known caches
//!   (`/var/lib/apt/lists`, `node_modules`, `.cache`, …).
//!
//! Discovery runs once per process, on first use: a command no rule asks about (`ls`, `git
//! status`) never pays for it. It reads one mount table, a handful of directories and
//! configuration files, and the `comm` of each process; every read is bounded in size.
//! Systemd units are read one at a time, only for the unit a command names.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Where discovery looks. The system's `/`, `/proc` and `/sys`; tests point them at temp dirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// The filesystem root configuration and data directories are read under.
    pub root: PathBuf,
    /// The proc filesystem (`self/mountinfo`, process directories).
    pub proc: PathBuf,
    /// The sys filesystem (`class/block/*/slaves`, `dm/name`).
    pub sys: PathBuf,
}

impl Roots {
    /// The running system.
    pub fn system() -> Roots {
        Roots {
            root: PathBuf::from("/"),
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
        }
    }

    /// `abs` (an absolute path on the host) under `root`.
    fn at(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }
}

/// How far below an entry its protection reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The entry and everything inside it (a data directory).
    Tree,
    /// The entry and its direct children (a mount point and its top directories): emptying or
    /// replacing them destroys the filesystem's contents, a file deep inside is ordinary work.
    Top,
}

/// One protected path, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Absolute, normalised; may hold `*`/`?` per component (host.toml patterns, the generic
    /// layout of a host that cannot be inspected).
    pub path: String,
    pub scope: Scope,
    pub why: String,
}

/// A protected block device or volume-manager name (`/dev/sdb`, `vg0`, `vg0/data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub name: String,
    pub why: String,
}

/// A service whose processes hold protected state (`postgres`, `mysqld`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The process name (`comm`).
    pub name: String,
    /// PIDs seen running, when known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pids: Vec<u32>,
    pub why: String,
}

/// Everything found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Found {
    pub entries: Vec<Entry>,
    pub devices: Vec<Device>,
    pub services: Vec<Service>,
    /// Ignored subtrees and path components (known caches, host.toml `ignore`).
    pub ignore: Vec<String>,
    /// What could not be read (an unreadable mount table), for `status`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Paths that hold caches, not state: deleting them costs a download or a rebuild. Subtrees
/// when absolute, else a path component anywhere.
pub const KNOWN_CACHES: &[&str] = &[
    "/var/lib/apt/lists",
    "/var/lib/apt/periodic",
    "/var/lib/apt/mirrors",
    "/var/lib/man-db",
    "/var/lib/command-not-found",
    "/var/lib/docker/tmp",
    "/var/lib/docker/buildkit",
    "/var/lib/docker/builder",
    "/var/lib/containerd/io.containerd.content.v1.content/ingest",
    "/var/lib/snapd/cache",
    "/var/lib/systemd/coredump",
    "/var/lib/ucf/cache",
    "/var/lib/pacman/sync",
    "/var/lib/dnf/repos",
    "/var/lib/yum/repos",
    "/var/lib/flatpak/repo/tmp",
    "/var/lib/php/sessions",
    "node_modules",
    "__pycache__",
    ".cache",
    "cache",
    ".npm",
    ".pytest_cache",
    ".mypy_cache",
    ".tox",
];

/// Process names of database and stateful servers, and the `/var/lib` directory each keeps its
/// data in by default.
const SERVERS: &[(&str, &[&str])] = &[
    ("postgres", &["postgresql", "pgsql"]),
    ("postmaster", &["postgresql", "pgsql"]),
    ("mysqld", &["mysql"]),
    ("mariadbd", &["mysql"]),
    ("mongod", &["mongodb", "mongo"]),
    ("redis-server", &["redis"]),
    ("valkey-server", &["valkey"]),
    ("etcd", &["etcd"]),
    ("clickhouse-serv", &["clickhouse"]),
    ("clickhouse-server", &["clickhouse"]),
    ("influxd", &["influxdb"]),
    ("prometheus", &["prometheus"]),
    ("minio", &["minio"]),
    ("consul", &["consul"]),
    ("vault", &["vault"]),
    ("beam.smp", &["rabbitmq"]),
    ("elasticsearch", &["elasticsearch"]),
    ("opensearch", &["opensearch"]),
    ("cassandra", &["cassandra"]),
    ("kafka", &["kafka"]),
    ("zookeeper", &["zookeeper"]),
    ("ceph-osd", &["ceph"]),
    ("ceph-mon", &["ceph"]),
    ("dockerd", &["docker"]),
    ("containerd", &["containerd"]),
];

/// Unit name prefixes of the servers above (`systemctl kill postgresql@15-main`).
const SERVER_UNITS: &[(&str, &[&str])] = &[
    ("postgres", &["postgresql", "postgres", "patroni"]),
    ("mysqld", &["mysql", "mysqld"]),
    ("mariadbd", &["mariadb"]),
    ("mongod", &["mongod", "mongodb"]),
    ("redis-server", &["redis"]),
    ("valkey-server", &["valkey"]),
    ("etcd", &["etcd"]),
    ("clickhouse-server", &["clickhouse"]),
    ("influxd", &["influxdb"]),
    ("prometheus", &["prometheus"]),
    ("minio", &["minio"]),
    ("consul", &["consul"]),
    ("vault", &["vault"]),
    ("beam.smp", &["rabbitmq"]),
    ("elasticsearch", &["elasticsearch"]),
    ("opensearch", &["opensearch"]),
    ("cassandra", &["cassandra"]),
    ("kafka", &["kafka"]),
    ("zookeeper", &["zookeeper"]),
    ("ceph-osd", &["ceph"]),
    ("dockerd", &["docker"]),
    ("containerd", &["containerd"]),
];

/// Filesystem types that hold no data of their own.
const VIRTUAL_FS: &[&str] = &[
    "tmpfs",
    "ramfs",
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "overlay",
    "aufs",
    "squashfs",
    "mqueue",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "autofs",
    "hugetlbfs",
    "fusectl",
    "configfs",
    "binfmt_misc",
    "efivarfs",
    "nsfs",
    "rpc_pipefs",
    "nfsd",
    "fuse.lxcfs",
    "fuse.gvfsd-fuse",
    "fuse.portal",
    "fuse.snapfuse",
    "iso9660",
];

/// The largest configuration or mount table read.
const MAX_READ: u64 = 1 << 20;
/// The most directory entries looked at in one directory.
const MAX_DIR: usize = 4096;
/// The most processes looked at.
const MAX_PROCS: usize = 65_536;

/// How protected state is known.
#[derive(Debug, Clone)]
enum Source {
    /// Found on this host, under these roots.
    Discover(Roots),
    /// Given (a host that cannot be inspected, an example for tests).
    Fixed(Arc<Found>),
}

/// The protected state of one host, discovered on first use.
#[derive(Debug, Clone)]
pub struct Protected {
    source: Source,
    /// host.toml `protect`.
    protect: Vec<String>,
    /// host.toml `ignore`.
    ignore: Vec<String>,
    found: OnceLock<Arc<Found>>,
}

impl Default for Protected {
    fn default() -> Self {
        Protected::discover(Roots::system(), Vec::new(), Vec::new())
    }
}

impl Protected {
    /// This host's state under `roots`, with host.toml's `protect` and `ignore`.
    pub fn discover(roots: Roots, protect: Vec<String>, ignore: Vec<String>) -> Protected {
        Protected {
            source: Source::Discover(roots),
            protect,
            ignore,
            found: OnceLock::new(),
        }
    }

    /// Given state, not looked for.
    pub fn fixed(found: Found) -> Protected {
        Protected {
            source: Source::Fixed(Arc::new(found)),
            protect: Vec::new(),
            ignore: Vec::new(),
            found: OnceLock::new(),
        }
    }

    /// A host that cannot be inspected (reached through `ssh`): the usual layout, every known
    /// server, no devices.
    pub fn elsewhere() -> Protected {
        let tree = |p: &str, why: &str| Entry {
            path: p.to_string(),
            scope: Scope::Tree,
            why: why.to_string(),
        };
        let mut f = Found {
            entries: vec![
                tree(
                    "/var/lib/*",
                    "service state (another host: its usual layout)",
                ),
                tree("/srv/*", "served data (another host: its usual layout)"),
                tree("/data*", "data (another host: its usual layout)"),
                tree("/backup*", "backups (another host: its usual layout)"),
                tree("/var/backups", "backups (another host: its usual layout)"),
                tree(
                    "/opt/*/data",
                    "application data (another host: its usual layout)",
                ),
                tree(
                    "/var/opt/*",
                    "application data (another host: its usual layout)",
                ),
            ],
            ..Found::default()
        };
        f.services = SERVERS
            .iter()
            .map(|(name, _)| Service {
                name: (*name).to_string(),
                pids: Vec::new(),
                why: "a database or stateful server (another host: not inspected)".to_string(),
            })
            .collect();
        f.ignore = KNOWN_CACHES.iter().map(|s| s.to_string()).collect();
        Protected::fixed(f)
    }

    /// A typical database primary, fixed: what `prodguard policy test` judges rule examples
    /// against, so that they do not depend on the machine they run on.
    pub fn example() -> Protected {
        let e = |p: &str, scope: Scope, why: &str| Entry {
            path: p.to_string(),
            scope,
            why: why.to_string(),
        };
        let d = |n: &str, why: &str| Device {
            name: n.to_string(),
            why: why.to_string(),
        };
        let f = Found {
            entries: vec![
                e(
                    "/data",
                    Scope::Top,
                    "mount point of /dev/mapper/vg0-data (xfs)",
                ),
                e(
                    "/backup",
                    Scope::Tree,
                    "backup mount of nas1:/backup (nfs4)",
                ),
                e(
                    "/var/lib/postgresql",
                    Scope::Tree,
                    "service state in /var/lib",
                ),
                e(
                    "/var/lib/postgresql/15/main",
                    Scope::Tree,
                    "data directory of postgres (postgresql.conf data_directory)",
                ),
                e(
                    "/data/pg",
                    Scope::Tree,
                    "data directory of postgres (running, pid 4242)",
                ),
                e("/var/lib/mysql", Scope::Tree, "service state in /var/lib"),
                e("/var/lib/redis", Scope::Tree, "service state in /var/lib"),
                e("/var/lib/docker", Scope::Tree, "service state in /var/lib"),
                e("/var/lib/apt", Scope::Tree, "service state in /var/lib"),
                e("/var/lib/myapp", Scope::Tree, "service state in /var/lib"),
                e("/srv/app", Scope::Tree, "served data in /srv"),
                e("/opt/app/data", Scope::Tree, "application data in /opt"),
                e("/var/backups", Scope::Tree, "backups"),
            ],
            devices: vec![
                d("/dev/mapper/vg0-data", "mounted at /data"),
                d("/dev/dm-0", "mounted at /data"),
                d("/dev/vg0/data", "mounted at /data"),
                d("vg0/data", "logical volume mounted at /data"),
                d("vg0", "volume group of /data"),
                d("/dev/sdb", "physical volume of vg0 (/data)"),
                d("/dev/sda", "disk of / (/dev/sda1)"),
                d("/dev/sda1", "mounted at /"),
            ],
            services: vec![
                Service {
                    name: "postgres".into(),
                    pids: vec![4242],
                    why: "database server of /data/pg".into(),
                },
                Service {
                    name: "mysqld".into(),
                    pids: Vec::new(),
                    why: "database server of /var/lib/mysql".into(),
                },
                Service {
                    name: "redis-server".into(),
                    pids: Vec::new(),
                    why: "database server of /var/lib/redis".into(),
                },
            ],
            ignore: KNOWN_CACHES.iter().map(|s| s.to_string()).collect(),
            notes: Vec::new(),
        };
        Protected::fixed(f)
    }

    /// host.toml's `protect` and `ignore` (for `status`).
    pub fn configured(&self) -> (&[String], &[String]) {
        (&self.protect, &self.ignore)
    }

    /// What is protected; found on first call.
    pub fn found(&self) -> &Found {
        self.found.get_or_init(|| {
            let mut f = match &self.source {
                Source::Discover(roots) => discover(roots),
                Source::Fixed(f) => (**f).clone(),
            };
            for p in &self.protect {
                f.entries.insert(
                    0,
                    Entry {
                        path: normalise(p),
                        scope: Scope::Tree,
                        why: "host.toml protect".to_string(),
                    },
                );
            }
            f.ignore.extend(self.ignore.iter().map(|p| normalise(p)));
            let ignore = f.ignore.clone();
            let protect: Vec<String> = self.protect.iter().map(|p| normalise(p)).collect();
            f.entries
                .retain(|e| protect.iter().any(|p| p == &e.path) || !ignored(&ignore, &e.path));
            Arc::new(f)
        })
    }

    /// Why `path` (absolute, normalised; it may be a glob the shell expands) is protected: it is
    /// inside a protected tree, is a protected entry or a direct child of a mount point, or holds
    /// one (destroying it destroys the entry). Devices are looked up too.
    pub fn path(&self, path: &str) -> Option<String> {
        self.lookup(path, true)
    }

    /// Why `path` is protected state itself: it lies in a protected tree or is an entry (a
    /// directory above one is not).
    pub fn within(&self, path: &str) -> Option<String> {
        self.lookup(path, false)
    }

    /// Whether a path strictly below the directory `dir` may be protected state, or hold some
    /// (a walk looking for state goes no deeper where this is false).
    pub fn below(&self, dir: &str) -> bool {
        let d = components(dir);
        self.found().entries.iter().any(|e| {
            let c = components(&e.path);
            // The entry's components against the directory's, as far as both go.
            let along = c.iter().zip(&d).all(|(e, d)| component_matches(e, d));
            along
                && (c.len() > d.len()
                    || match e.scope {
                        Scope::Tree => true,
                        Scope::Top => c.len() == d.len(),
                    })
        })
    }

    /// Why the file `path` is protected state: it lies in a protected tree or is an entry. For
    /// what writes one file (`> FILE`): a directory that holds state is no such file.
    pub fn file(&self, path: &str) -> Option<String> {
        let is_file = match &self.source {
            Source::Fixed(_) => path != "/",
            Source::Discover(roots) => {
                std::fs::metadata(roots.at(path)).is_ok_and(|m| m.is_file() && m.len() > 0)
            }
        };
        if is_file {
            self.lookup(path, false)
        } else {
            None
        }
    }

    fn lookup(&self, path: &str, ancestors: bool) -> Option<String> {
        let f = self.found();
        let explicit = |p: &str| {
            self.protect
                .iter()
                .any(|e| within(p, &normalise(e)) || within(&normalise(e), p))
        };
        if ignored(&f.ignore, path) && !explicit(path) {
            return None;
        }
        let dir = glob_dir(path);
        if let Some(d) = self.device(path) {
            return Some(d);
        }
        for e in &f.entries {
            let hit = match e.scope {
                Scope::Tree => within(dir, &e.path),
                Scope::Top => {
                    within(dir, &e.path) && components(dir).len() <= components(&e.path).len() + 1
                }
            };
            if hit {
                return Some(format!("{} ({})", e.path, e.why));
            }
            // Destroying an ancestor destroys the entry.
            if ancestors && dir != e.path && within(&e.path, dir) && !ignored(&f.ignore, &e.path) {
                return Some(format!("{} is inside it ({})", e.path, e.why));
            }
        }
        None
    }

    /// Why the device or volume name (`/dev/sdb`, `/dev/disk/by-id/…`, `vg0`, `vg0/data`) is
    /// protected.
    pub fn device(&self, name: &str) -> Option<String> {
        let f = self.found();
        if f.devices.is_empty() {
            return None;
        }
        let mut names = vec![name.trim_end_matches('/').to_string()];
        if let Source::Discover(roots) = &self.source {
            if name.starts_with("/dev/") {
                if let Ok(real) = std::fs::canonicalize(roots.at(name)) {
                    if let Ok(rel) = real.strip_prefix(&roots.root) {
                        names.push(format!("/{}", rel.display()));
                    }
                }
            }
        }
        for n in &names {
            if let Some(d) = f.devices.iter().find(|d| &d.name == n) {
                return Some(format!("{} ({})", d.name, d.why));
            }
        }
        None
    }

    /// Where the file `path` of this host is on this machine, when the state was found here
    /// (`None` for a fixed description: nothing to look at).
    pub fn real_path(&self, path: &str) -> Option<std::path::PathBuf> {
        match &self.source {
            Source::Fixed(_) => None,
            Source::Discover(roots) => Some(roots.at(path)),
        }
    }

    /// Whether `path` is there now and not empty: truncating a file that does not exist yet
    /// creates it and destroys nothing. A host that cannot be inspected is taken to have it.
    pub fn holds(&self, path: &str) -> bool {
        match &self.source {
            Source::Fixed(_) => true,
            Source::Discover(roots) => {
                std::fs::metadata(roots.at(path)).is_ok_and(|m| !m.is_file() || m.len() > 0)
            }
        }
    }

    /// Why the process a pid file names is protected (`kill $(cat …/postmaster.pid)`): the
    /// process it names now, or the file lies in protected state.
    pub fn pid_file(&self, path: &str) -> Option<String> {
        if let Source::Discover(roots) = &self.source {
            let pid = read_small(&roots.at(path))
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
            if let Some(why) = pid.and_then(|p| self.pid(p)) {
                return Some(why);
            }
        }
        self.path(path)
    }

    /// Why a process with this id is protected: it is one of a protected service's.
    pub fn pid(&self, pid: u32) -> Option<String> {
        let f = self.found();
        if let Some(s) = f.services.iter().find(|s| s.pids.contains(&pid)) {
            return Some(format!("pid {pid} is {} ({})", s.name, s.why));
        }
        if let Source::Discover(roots) = &self.source {
            let comm = read_small(&roots.proc.join(pid.to_string()).join("comm"))?;
            let comm = comm.trim();
            if let Some(s) = f.services.iter().find(|s| s.name == comm) {
                return Some(format!("pid {pid} is {} ({})", s.name, s.why));
            }
            if SERVERS.iter().any(|(n, _)| *n == comm) {
                return Some(format!(
                    "pid {pid} is {comm}, a database or stateful server"
                ));
            }
        }
        None
    }

    /// Why a process-name pattern (`pkill PATTERN`, `killall NAME`, `pidof NAME`) is protected:
    /// it names a protected service. `regex`: the pattern is a regular expression matched
    /// anywhere in the name (pkill, pgrep); else it is the exact name.
    pub fn process(&self, pattern: &str, regex: bool) -> Option<String> {
        let f = self.found();
        let re = regex
            .then(|| {
                regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 16)
                    .build()
                    .ok()
            })
            .flatten();
        let base = pattern.rsplit('/').next().unwrap_or(pattern);
        f.services
            .iter()
            .find(|s| match &re {
                Some(re) => re.is_match(&s.name),
                None if regex => s.name.contains(pattern),
                None => s.name == base || (base.len() == 15 && s.name.starts_with(base)),
            })
            .map(|s| format!("{} ({})", s.name, s.why))
    }

    /// Why a systemd unit (`postgresql@15-main`, `myapp.service`) is protected: it runs a
    /// protected service, or keeps a `StateDirectory=` (read from its unit file and drop-ins).
    pub fn unit(&self, unit: &str) -> Option<String> {
        let f = self.found();
        let name = unit.trim();
        let stem = name
            .strip_suffix(".service")
            .unwrap_or(name)
            .split('@')
            .next()
            .unwrap_or(name);
        for s in &f.services {
            let prefixes = SERVER_UNITS
                .iter()
                .find(|(n, _)| *n == s.name)
                .map_or(&[][..], |(_, p)| p);
            if prefixes.iter().any(|p| stem.starts_with(p)) {
                return Some(format!("{name} runs {} ({})", s.name, s.why));
            }
        }
        if let Source::Discover(roots) = &self.source {
            if let Some(dirs) = state_directories(roots, name) {
                return Some(format!("{name} keeps StateDirectory={dirs}"));
            }
        }
        None
    }
}

/// `/var/lib/*` → `/var/lib`; a path without glob characters is itself.
fn glob_dir(p: &str) -> &str {
    let Some(first) = p.find(['*', '?', '[']) else {
        return p;
    };
    match p[..first].rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

fn components(p: &str) -> Vec<&str> {
    p.split('/').filter(|c| !c.is_empty()).collect()
}

/// Whether `path` is `entry` or inside it; `entry`'s components may hold `*` and `?`.
fn within(path: &str, entry: &str) -> bool {
    let p = components(path);
    let e = components(entry);
    p.len() >= e.len() && e.iter().zip(&p).all(|(e, p)| component_matches(e, p))
}

/// A path component against a pattern component with `*` and `?`.
pub(crate) fn component_matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == name;
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether `path` lies in an ignored subtree or has an ignored component.
fn ignored(ignore: &[String], path: &str) -> bool {
    ignore.iter().any(|i| {
        if i.starts_with('/') {
            within(path, i)
        } else {
            components(path).iter().any(|c| component_matches(i, c))
        }
    })
}

/// Folds `.`, `..` and repeated slashes of an absolute path.
fn normalise(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return "/".to_string();
    }
    parts.iter().map(|c| format!("/{c}")).collect()
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut s = String::new();
    f.take(MAX_READ).read_to_string(&mut s).ok()?;
    Some(s)
}

fn dir_names(path: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .take(MAX_DIR)
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    v.sort();
    v
}

/// Decode the octal escapes of /proc/self/mountinfo (`\040` for a space).
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = u32::from(b[i + 1] - b'0') * 64
                + u32::from(b[i + 2] - b'0') * 8
                + u32::from(b[i + 3] - b'0');
            out.push(u8::try_from(v).unwrap_or(b'?'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A mount: where, of what, which type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    point: String,
    source: String,
    fstype: String,
}

/// The mounts of `/proc/self/mountinfo` text.
fn mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let point = unescape(left.split(' ').nth(4)?);
            let mut r = right.split(' ');
            let fstype = r.next()?.to_string();
            let source = unescape(r.next().unwrap_or(""));
            Some(Mount {
                point,
                source,
                fstype,
            })
        })
        .collect()
}

/// Whether a mount holds data of its own.
fn real_fs(m: &Mount) -> bool {
    !VIRTUAL_FS.contains(&m.fstype.as_str())
        && !["/proc", "/sys", "/dev", "/run"]
            .iter()
            .any(|v| within(&m.point, v))
}

/// `/dev/sdb1` → `/dev/sdb`, `/dev/nvme0n1p2` → `/dev/nvme0n1`, `/dev/mmcblk0p1` →
/// `/dev/mmcblk0`.
fn parent_disk(dev: &str) -> Option<String> {
    let name = dev.strip_prefix("/dev/")?;
    if name.contains('/') {
        return None;
    }
    let digits = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if digits.len() == name.len() || digits.is_empty() {
        return None;
    }
    if let Some(disk) = digits.strip_suffix('p') {
        if disk.ends_with(|c: char| c.is_ascii_digit()) {
            return Some(format!("/dev/{disk}"));
        }
    }
    if digits.ends_with(|c: char| c.is_ascii_alphabetic())
        && (digits.starts_with("sd")
            || digits.starts_with("vd")
            || digits.starts_with("xvd")
            || digits.starts_with("hd"))
    {
        return Some(format!("/dev/{digits}"));
    }
    None
}

/// The devices a mounted source lives on: itself, its disk, and for device-mapper volumes the
/// volume group, logical volume and physical volumes (from /sys).
fn devices_of(roots: &Roots, source: &str, point: &str, out: &mut Vec<Device>) {
    let push = |out: &mut Vec<Device>, name: String, why: String| {
        if !out.iter().any(|d| d.name == name) {
            out.push(Device { name, why });
        }
    };
    let at = if point == "/" {
        "/".to_string()
    } else {
        point.to_string()
    };
    push(out, source.to_string(), format!("mounted at {at}"));
    let real = std::fs::canonicalize(roots.at(source)).ok().and_then(|r| {
        r.strip_prefix(&roots.root)
            .ok()
            .map(|r| format!("/{}", r.display()))
    });
    if let Some(real) = &real {
        push(out, real.clone(), format!("{source}, mounted at {at}"));
    }
    for dev in [Some(source.to_string()), real.clone()]
        .into_iter()
        .flatten()
    {
        if let Some(disk) = parent_disk(&dev) {
            push(out, disk, format!("disk of {dev}, mounted at {at}"));
        }
    }
    // Device-mapper: /dev/mapper/VG-LV, its block name dm-N, the disks under it.
    let mapper = source
        .strip_prefix("/dev/mapper/")
        .map(str::to_string)
        .or_else(|| {
            let block = real.as_deref()?.strip_prefix("/dev/")?.to_string();
            read_small(&roots.sys.join("class/block").join(&block).join("dm/name"))
                .map(|n| n.trim().to_string())
        });
    let Some(mapper) = mapper else { return };
    push(
        out,
        format!("/dev/mapper/{mapper}"),
        format!("mounted at {at}"),
    );
    if let Some((vg, lv)) = split_dm_name(&mapper) {
        push(
            out,
            format!("{vg}/{lv}"),
            format!("logical volume mounted at {at}"),
        );
        push(
            out,
            format!("/dev/{vg}/{lv}"),
            format!("logical volume mounted at {at}"),
        );
        push(out, vg.clone(), format!("volume group of {at}"));
        push(out, format!("/dev/{vg}"), format!("volume group of {at}"));
    }
    if let Some(block) = real.as_deref().and_then(|r| r.strip_prefix("/dev/")) {
        for slave in dir_names(&roots.sys.join("class/block").join(block).join("slaves")) {
            let dev = format!("/dev/{slave}");
            if let Some(disk) = parent_disk(&dev) {
                push(out, disk, format!("disk under {mapper}, mounted at {at}"));
            }
            push(
                out,
                dev,
                format!("physical volume under {mapper}, mounted at {at}"),
            );
        }
    }
}

/// `vg0-data` → (`vg0`, `data`); LVM doubles a `-` inside a name (`my--vg-lv`).
fn split_dm_name(name: &str) -> Option<(String, String)> {
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'-' {
            if b.get(i + 1) == Some(&b'-') {
                i += 2;
                continue;
            }
            let vg = name[..i].replace("--", "-");
            let lv = name[i + 1..].replace("--", "-");
            return (!vg.is_empty() && !lv.is_empty()).then_some((vg, lv));
        }
        i += 1;
    }
    None
}

/// The value of `key` in a `key = value` / `key value` / `key: value` configuration line,
/// quotes removed; comments (`#`, `;`) skipped. The last setting wins.
fn config_value(text: &str, key: &str) -> Option<String> {
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some(rest) = line.strip_prefix(key) else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix(['=', ':']) {
            Some(r) => r.trim_start(),
            None if rest.len() < line.len() - key.len() => rest,
            None => continue,
        };
        let value = rest.split('#').next().unwrap_or("").trim();
        let value = value.trim_matches(|c| c == '\'' || c == '"').trim();
        if value.starts_with('/') {
            found = Some(normalise(value));
        }
    }
    found
}

/// Collects entries without duplicates: the first reason for a path is kept, and a tree wins
/// over a mount point's top scope.
#[derive(Default)]
struct Collect {
    found: Found,
}

impl Collect {
    fn entry(&mut self, path: &str, scope: Scope, why: String) {
        let path = normalise(path);
        if let Some(e) = self.found.entries.iter_mut().find(|e| e.path == path) {
            if scope == Scope::Tree && e.scope == Scope::Top {
                e.scope = Scope::Tree;
                e.why = format!("{}; {why}", e.why);
            }
            return;
        }
        self.found.entries.push(Entry { path, scope, why });
    }

    fn service(&mut self, name: &str, pid: Option<u32>, why: String) {
        if let Some(s) = self.found.services.iter_mut().find(|s| s.name == name) {
            s.pids.extend(pid);
            return;
        }
        self.found.services.push(Service {
            name: name.to_string(),
            pids: pid.into_iter().collect(),
            why,
        });
    }
}

/// Find the protected state under `roots`.
pub fn discover(roots: &Roots) -> Found {
    let mut c = Collect::default();
    c.found.ignore = KNOWN_CACHES.iter().map(|s| s.to_string()).collect();

    // Mounts of real filesystems; the devices under every one of them, `/` included.
    match read_small(&roots.proc.join("self/mountinfo")) {
        Some(text) => {
            for m in mounts(&text).iter().filter(|m| real_fs(m)) {
                if m.source.starts_with("/dev/") {
                    devices_of(roots, &m.source, &m.point, &mut c.found.devices);
                } else if m.fstype == "zfs" {
                    let pool = m.source.split('/').next().unwrap_or(&m.source);
                    for name in [m.source.as_str(), pool] {
                        if !c.found.devices.iter().any(|d| d.name == name) {
                            c.found.devices.push(Device {
                                name: name.to_string(),
                                why: format!("ZFS, mounted at {}", m.point),
                            });
                        }
                    }
                }
                if m.point == "/" {
                    continue;
                }
                if m.point.contains("backup") {
                    let why = format!("backup mount of {} ({})", m.source, m.fstype);
                    c.entry(&m.point, Scope::Tree, why);
                } else {
                    let why = format!("mount point of {} ({})", m.source, m.fstype);
                    c.entry(&m.point, Scope::Top, why);
                }
            }
        }
        None => c.found.notes.push(format!(
            "cannot read {}: mount points unknown",
            roots.proc.join("self/mountinfo").display()
        )),
    }

    // The usual places of state.
    for name in dir_names(&roots.at("/var/lib")) {
        c.entry(
            &format!("/var/lib/{name}"),
            Scope::Tree,
            "service state in /var/lib".into(),
        );
        for (server, dirs) in SERVERS {
            if dirs.contains(&name.as_str()) {
                c.service(server, None, format!("keeps its data in /var/lib/{name}"));
            }
        }
    }
    for name in dir_names(&roots.at("/srv")) {
        c.entry(
            &format!("/srv/{name}"),
            Scope::Tree,
            "served data in /srv".into(),
        );
    }
    for name in dir_names(&roots.root) {
        if name.starts_with("data") {
            c.entry(&format!("/{name}"), Scope::Tree, "data directory".into());
        } else if name.starts_with("backup") {
            c.entry(&format!("/{name}"), Scope::Tree, "backups".into());
        }
    }
    if roots.at("/var/backups").is_dir() {
        c.entry("/var/backups", Scope::Tree, "backups".into());
    }
    for top in ["/mnt", "/media"] {
        for name in dir_names(&roots.at(top)) {
            if name.contains("backup") {
                c.entry(&format!("{top}/{name}"), Scope::Tree, "backups".into());
            }
        }
    }
    for name in dir_names(&roots.at("/opt")) {
        let data = format!("/opt/{name}/data");
        if roots.at(&data).is_dir() {
            c.entry(&data, Scope::Tree, "application data in /opt".into());
        }
    }
    for name in dir_names(&roots.at("/var/opt")) {
        c.entry(
            &format!("/var/opt/{name}"),
            Scope::Tree,
            "application state in /var/opt".into(),
        );
    }

    databases(roots, &mut c);
    containers(roots, &mut c);
    running(roots, &mut c);
    c.found
}

/// Data directories named by database configuration files, and `postmaster.pid` in them.
fn databases(roots: &Roots, c: &mut Collect) {
    // PostgreSQL (Debian layout): /etc/postgresql/VERSION/CLUSTER/postgresql.conf.
    for version in dir_names(&roots.at("/etc/postgresql")) {
        for cluster in dir_names(&roots.at(&format!("/etc/postgresql/{version}"))) {
            let conf = format!("/etc/postgresql/{version}/{cluster}/postgresql.conf");
            let Some(text) = read_small(&roots.at(&conf)) else {
                continue;
            };
            let (dir, how) = match config_value(&text, "data_directory") {
                Some(d) => (d, format!("{conf} data_directory")),
                None => (
                    format!("/var/lib/postgresql/{version}/{cluster}"),
                    format!("default of {conf}"),
                ),
            };
            postgres_dir(roots, c, &dir, &how);
        }
    }
    // RHEL layout and the sources' default.
    for base in ["/var/lib/pgsql", "/var/lib/pgsql/data"] {
        for name in dir_names(&roots.at(base)) {
            let dir = format!("{base}/{name}");
            if roots.at(&format!("{dir}/PG_VERSION")).exists()
                || roots.at(&format!("{dir}/data/PG_VERSION")).exists()
            {
                postgres_dir(roots, c, &dir, "PG_VERSION");
            }
        }
    }
    // MySQL / MariaDB.
    let mut cnfs = vec!["/etc/my.cnf".to_string(), "/etc/mysql/my.cnf".to_string()];
    for d in [
        "/etc/mysql/conf.d",
        "/etc/mysql/mysql.conf.d",
        "/etc/mysql/mariadb.conf.d",
        "/etc/my.cnf.d",
    ] {
        cnfs.extend(
            dir_names(&roots.at(d))
                .into_iter()
                .filter(|n| n.ends_with(".cnf"))
                .map(|n| format!("{d}/{n}")),
        );
    }
    for cnf in cnfs {
        if let Some(dir) = read_small(&roots.at(&cnf)).and_then(|t| config_value(&t, "datadir")) {
            c.entry(
                &dir,
                Scope::Tree,
                format!("data directory of mysqld ({cnf} datadir)"),
            );
            c.service("mysqld", None, format!("database server of {dir}"));
            c.service("mariadbd", None, format!("database server of {dir}"));
        }
    }
    // Redis / Valkey.
    let mut redis = vec!["/etc/redis.conf".to_string()];
    for d in ["/etc/redis", "/etc/valkey"] {
        redis.extend(
            dir_names(&roots.at(d))
                .into_iter()
                .filter(|n| n.ends_with(".conf"))
                .map(|n| format!("{d}/{n}")),
        );
    }
    for conf in redis {
        if let Some(dir) = read_small(&roots.at(&conf)).and_then(|t| config_value(&t, "dir")) {
            let server = if conf.contains("valkey") {
                "valkey-server"
            } else {
                "redis-server"
            };
            c.entry(
                &dir,
                Scope::Tree,
                format!("data directory of {server} ({conf} dir)"),
            );
            c.service(server, None, format!("database server of {dir}"));
        }
    }
    // MongoDB.
    for conf in ["/etc/mongod.conf", "/etc/mongodb.conf"] {
        let Some(text) = read_small(&roots.at(conf)) else {
            continue;
        };
        if let Some(dir) = config_value(&text, "dbPath").or_else(|| config_value(&text, "dbpath")) {
            c.entry(
                &dir,
                Scope::Tree,
                format!("data directory of mongod ({conf} dbPath)"),
            );
            c.service("mongod", None, format!("database server of {dir}"));
        }
    }
}

/// A PostgreSQL data directory, and the server running on it (`postmaster.pid`).
fn postgres_dir(roots: &Roots, c: &mut Collect, dir: &str, how: &str) {
    c.entry(
        dir,
        Scope::Tree,
        format!("data directory of postgres ({how})"),
    );
    let pid = read_small(&roots.at(&format!("{dir}/postmaster.pid")))
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
    c.service("postgres", pid, format!("database server of {dir}"));
}

/// Docker, containerd and podman volumes.
fn containers(roots: &Roots, c: &mut Collect) {
    let mut docker = "/var/lib/docker".to_string();
    if let Some(text) = read_small(&roots.at("/etc/docker/daemon.json")) {
        if let Some(root) = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("data-root")
                    .and_then(|r| r.as_str())
                    .map(str::to_string)
            })
            .filter(|r| r.starts_with('/'))
        {
            docker = normalise(&root);
        }
    }
    let volumes = format!("{docker}/volumes");
    if roots.at(&volumes).is_dir() {
        c.entry(&volumes, Scope::Tree, "docker volumes".into());
    }
    for (dir, why) in [
        ("/var/lib/containers/storage/volumes", "podman volumes"),
        ("/var/lib/containerd", "containerd state"),
    ] {
        if roots.at(dir).is_dir() {
            c.entry(dir, Scope::Tree, why.into());
        }
    }
}

/// Running database servers: their process ids and data directories (the working directory
/// a server changes into, or its `-D`/`--datadir`/`--dbpath`/`--dir` argument).
fn running(roots: &Roots, c: &mut Collect) {
    let Ok(rd) = std::fs::read_dir(&roots.proc) else {
        return;
    };
    for e in rd.take(MAX_PROCS).filter_map(Result::ok) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let dir = e.path();
        let Some(comm) = read_small(&dir.join("comm")) else {
            continue;
        };
        let comm = comm.trim();
        if !SERVERS.iter().any(|(n, _)| *n == comm) {
            continue;
        }
        let args: Vec<String> = read_small(&dir.join("cmdline"))
            .map(|s| {
                s.split('\0')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let data = data_arg(&args).or_else(|| {
            if !matches!(
                comm,
                "postgres" | "postmaster" | "mysqld" | "mariadbd" | "redis-server"
            ) {
                return None;
            }
            std::fs::read_link(dir.join("cwd"))
                .ok()
                .and_then(|p| p.to_str().map(str::to_string))
                .filter(|p| p != "/" && p.starts_with('/'))
        });
        match data {
            Some(d) => {
                let d = normalise(&d);
                c.entry(
                    &d,
                    Scope::Tree,
                    format!("data directory of {comm} (running, pid {pid})"),
                );
                c.service(comm, Some(pid), format!("database server of {d}"));
            }
            None => c.service(
                comm,
                Some(pid),
                "a database or stateful server, running".into(),
            ),
        }
    }
}

/// `-D DIR`, `--datadir=DIR`, `--dbpath DIR`, `--data-dir DIR` of a server's arguments.
fn data_arg(args: &[String]) -> Option<String> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        for flag in ["-D", "--datadir", "--dbpath", "--data-dir", "--dir"] {
            if a == flag {
                return it.next().filter(|v| v.starts_with('/')).cloned();
            }
            if let Some(v) = a
                .strip_prefix(flag)
                .and_then(|v| v.strip_prefix('=').or(Some(v)))
            {
                if v.starts_with('/') && (flag == "-D" || a.contains('=')) {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

/// The `StateDirectory=` of a unit (its unit file and drop-ins), when it has one.
fn state_directories(roots: &Roots, unit: &str) -> Option<String> {
    let unit = if unit.contains('.') {
        unit.to_string()
    } else {
        format!("{unit}.service")
    };
    if unit.contains('/') {
        return None;
    }
    // A template instance reads the template's file.
    let template = unit
        .split_once('@')
        .map(|(a, b)| format!("{a}@{}", &b[b.rfind('.').unwrap_or(b.len())..]));
    let mut dirs = Vec::new();
    for base in [
        "/etc/systemd/system",
        "/run/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system",
    ] {
        let mut files = Vec::new();
        for name in [Some(unit.clone()), template.clone()].into_iter().flatten() {
            files.push(format!("{base}/{name}"));
            let dropins = format!("{base}/{name}.d");
            files.extend(
                dir_names(&roots.at(&dropins))
                    .into_iter()
                    .filter(|n| n.ends_with(".conf"))
                    .map(|n| format!("{dropins}/{n}")),
            );
        }
        for f in files {
            let Some(text) = read_small(&roots.at(&f)) else {
                continue;
            };
            for line in text.lines() {
                if let Some(v) = line.trim().strip_prefix("StateDirectory=") {
                    dirs.extend(
                        v.split_whitespace()
                            .map(|d| format!("/var/lib/{}", d.split(':').next().unwrap_or(d))),
                    );
                }
            }
        }
    }
    (!dirs.is_empty()).then(|| dirs.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    struct Fake {
        dir: tempfile::TempDir,
    }

    impl Fake {
        fn new() -> Fake {
            let f = Fake {
                dir: tempfile::tempdir().unwrap(),
            };
            fs::create_dir_all(f.path("proc/self")).unwrap();
            fs::create_dir_all(f.path("sys/class/block")).unwrap();
            fs::write(f.path("proc/self/mountinfo"), "").unwrap();
            f
        }
        fn path(&self, rel: &str) -> PathBuf {
            self.dir.path().join(rel.trim_start_matches('/'))
        }
        fn write(&self, rel: &str, text: &str) {
            let p = self.path(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        fn mkdir(&self, rel: &str) {
            fs::create_dir_all(self.path(rel)).unwrap();
        }
        fn roots(&self) -> Roots {
            Roots {
                root: self.path("root"),
                proc: self.path("proc"),
                sys: self.path("sys"),
            }
        }
        fn protected(&self) -> Protected {
            Protected::discover(self.roots(), Vec::new(), Vec::new())
        }
    }

    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/sda1 rw
28 27 253:0 / /mnt/disk1 rw,relatime - xfs /dev/mapper/vg0-data rw
29 27 0:40 / /mnt/nas\\040backup rw,relatime - nfs4 nas1:/backup rw
30 27 0:41 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw
31 27 0:42 / /run/user/0 rw - tmpfs tmpfs rw
32 27 0:43 / /home rw - ext4 /dev/sdc1 rw
";

    #[test]
    fn mounts_of_real_filesystems_and_their_devices() {
        let f = Fake::new();
        f.write("proc/self/mountinfo", MOUNTINFO);
        f.mkdir("root/dev/mapper");
        f.mkdir("root/mnt/disk1/pg");
        f.write("sys/class/block/dm-0/dm/name", "vg0-data\n");
        f.mkdir("sys/class/block/dm-0/slaves/sdb");
        fs::write(f.path("root/dev/dm-0"), "").unwrap();
        std::os::unix::fs::symlink("../dm-0", f.path("root/dev/mapper/vg0-data")).unwrap();
        let p = f.protected();
        let found = p.found();
        let points: Vec<&str> = found
            .entries
            .iter()
            .filter(|e| e.scope == Scope::Top)
            .map(|e| e.path.as_str())
            .collect();
        assert_eq!(points, ["/mnt/disk1", "/home"]);
        assert!(p.path("/mnt/disk1").is_some());
        assert!(p.path("/mnt/disk1/pg").is_some(), "a top directory");
        assert!(p.path("/mnt/disk1/*").is_some(), "emptying the mount");
        assert!(
            p.path("/mnt/disk1/pg/base/1/2").is_none(),
            "deep inside is ordinary"
        );
        assert!(p.path("/mnt").is_some(), "holds a mount");
        assert!(p.path("/").is_some(), "/ holds everything");
        assert!(p.path("/home/alice").is_some());
        assert!(p.path("/home/alice/build").is_none());
        assert!(
            p.path("/mnt/nas backup/db/x").is_some(),
            "named like a backup: a tree"
        );
        assert!(p.path("/proc/1").is_none());
        assert!(p.path("/var/lib/docker/overlay2/x/merged/etc").is_none());
        assert!(p.path("/run/user/0/x").is_none());
        // Devices: the mapper name, dm-N, the logical volume, the group, the disk under it,
        // the root's partition and disk.
        for dev in [
            "/dev/mapper/vg0-data",
            "/dev/dm-0",
            "vg0",
            "vg0/data",
            "/dev/vg0/data",
            "/dev/sdb",
            "/dev/sda1",
            "/dev/sda",
            "/dev/sdc",
        ] {
            assert!(p.device(dev).is_some(), "{dev}: {:?}", found.devices);
        }
        assert!(p.device("/dev/sdd").is_none());
        assert!(p.device("vg1").is_none());
    }

    #[test]
    fn usual_places_and_caches() {
        let f = Fake::new();
        for d in [
            "root/var/lib/postgresql/15/main",
            "root/var/lib/myapp",
            "root/var/lib/apt/lists/partial",
            "root/var/lib/man-db",
            "root/srv/www",
            "root/data2",
            "root/backups",
            "root/opt/app/data",
            "root/opt/tool/bin",
            "root/var/backups",
            "root/mnt/backup1",
            "root/mnt/cdrom",
            "root/srv/www/node_modules/x",
        ] {
            f.mkdir(d);
        }
        let p = f.protected();
        for hit in [
            "/var/lib/postgresql/15/main/base",
            "/var/lib/myapp",
            "/var/lib/myapp/state.db",
            "/var/lib/apt",
            "/srv/www/index.html",
            "/srv",
            "/data2/x",
            "/backups/db.tar",
            "/opt/app/data/db",
            "/opt/app",
            "/var/backups/x",
            "/mnt/backup1/x",
            "/var/lib/*",
            "/var",
        ] {
            assert!(p.path(hit).is_some(), "{hit} should be protected");
        }
        for miss in [
            "/var/lib/apt/lists/partial",
            "/var/lib/apt/lists/*",
            "/var/lib/man-db",
            "/srv/www/node_modules/x",
            "/opt/tool/bin",
            "/mnt/cdrom",
            "/tmp/x",
            "/root/build",
            "/var/tmp",
        ] {
            assert!(
                p.path(miss).is_none(),
                "{miss} should be ordinary: {:?}",
                p.path(miss)
            );
        }
        assert!(
            p.process("postgres", false).is_some(),
            "/var/lib/postgresql names it"
        );
        assert!(p.process("mysqld", false).is_none());
    }

    #[test]
    fn database_configuration_names_data_directories() {
        let f = Fake::new();
        f.write(
            "root/etc/postgresql/16/main/postgresql.conf",
            "# data_directory = '/nope'\ndata_directory = '/pgdata/16/main'\t# use data in another directory\n",
        );
        f.write(
            "root/pgdata/16/main/postmaster.pid",
            "4711\n/pgdata/16/main\n",
        );
        f.write(
            "root/etc/mysql/mysql.conf.d/mysqld.cnf",
            "[mysqld]\ndatadir\t= /mysql/data\n",
        );
        f.write("root/etc/redis/redis.conf", "dir /store/redis\n");
        f.write("root/etc/mongod.conf", "storage:\n  dbPath: /store/mongo\n");
        f.write("root/etc/docker/daemon.json", r#"{"data-root": "/docker"}"#);
        f.mkdir("root/docker/volumes/pgdata");
        let p = f.protected();
        for hit in [
            "/pgdata/16/main/base/1",
            "/mysql/data/ibdata1",
            "/store/redis/dump.rdb",
            "/store/mongo/x.wt",
            "/docker/volumes/pgdata/_data",
        ] {
            assert!(p.path(hit).is_some(), "{hit}: {:?}", p.found().entries);
        }
        assert!(p.path("/nope").is_none());
        assert!(p.pid(4711).is_some(), "postmaster.pid names the server");
        assert!(p.process("redis-server", false).is_some());
        assert!(p.process("mysqld", false).is_some());
        assert!(p.process("mongo.*", true).is_some());
        assert!(p.process("nginx", false).is_none());
        assert!(p.unit("postgresql@16-main").is_some());
        assert!(p.unit("mysql.service").is_some());
        assert!(p.unit("nginx").is_none());
    }

    #[test]
    fn running_servers_by_working_directory_or_argument() {
        let f = Fake::new();
        f.mkdir("root/tmp/pg1/data");
        f.write("proc/100/comm", "postgres\n");
        f.write(
            "proc/100/cmdline",
            "/usr/lib/postgresql/15/bin/postgres\0-D\0/tmp/pg1/data\0",
        );
        f.write("proc/200/comm", "mysqld\n");
        f.write("proc/200/cmdline", "/usr/sbin/mysqld\0--datadir=/tmp/my\0");
        f.write("proc/300/comm", "bash\n");
        f.write("proc/300/cmdline", "bash\0-D\0/tmp/nothing\0");
        f.write("proc/400/comm", "redis-server\n");
        f.write("proc/400/cmdline", "redis-server *:6379\0");
        std::os::unix::fs::symlink("/tmp/redis-here", f.path("proc/400/cwd")).unwrap();
        let p = f.protected();
        assert!(p.path("/tmp/pg1/data/base").is_some());
        assert!(p.path("/tmp/pg1").is_some(), "holds the data directory");
        assert!(p.path("/tmp/my/x").is_some());
        assert!(p.path("/tmp/redis-here/dump.rdb").is_some());
        assert!(p.path("/tmp/nothing").is_none());
        assert!(p.path("/tmp/other").is_none());
        assert!(p.pid(100).is_some());
        assert!(p.pid(300).is_none());
        assert!(p.process("postgres", false).is_some());
        assert!(p.process("postg", true).is_some());
        assert!(p.process("bash", false).is_none());
    }

    #[test]
    fn host_toml_protect_and_ignore() {
        let f = Fake::new();
        f.mkdir("root/srv/scratch");
        f.mkdir("root/srv/app");
        let p = Protected::discover(
            f.roots(),
            vec!["/mnt/*/pgdata".into(), "/var/lib/apt/lists".into()],
            vec!["/srv/scratch".into()],
        );
        assert!(p.path("/mnt/disk1/pgdata/base").is_some());
        assert!(p.path("/mnt/disk1/other").is_none());
        assert!(p.path("/srv/scratch/x").is_none(), "ignored");
        assert!(p.path("/srv/app/x").is_some());
        assert!(
            p.path("/var/lib/apt/lists/x").is_some(),
            "protect wins over a known cache"
        );
    }

    #[test]
    fn unit_state_directory() {
        let f = Fake::new();
        f.write(
            "root/lib/systemd/system/myapp.service",
            "[Service]\nExecStart=/usr/bin/myapp\nStateDirectory=myapp myapp/blobs\n",
        );
        f.write(
            "root/etc/systemd/system/worker@.service.d/override.conf",
            "[Service]\nStateDirectory=worker\n",
        );
        f.write(
            "root/lib/systemd/system/nginx.service",
            "[Service]\nExecStart=/usr/sbin/nginx\n",
        );
        let p = f.protected();
        assert!(p.unit("myapp").unwrap().contains("/var/lib/myapp"));
        assert!(p.unit("worker@3.service").is_some());
        assert!(p.unit("nginx").is_none());
        assert!(p.unit("../x").is_none());
    }

    #[test]
    fn helpers() {
        assert_eq!(parent_disk("/dev/sdb1").as_deref(), Some("/dev/sdb"));
        assert_eq!(
            parent_disk("/dev/nvme0n1p2").as_deref(),
            Some("/dev/nvme0n1")
        );
        assert_eq!(
            parent_disk("/dev/mmcblk0p1").as_deref(),
            Some("/dev/mmcblk0")
        );
        assert_eq!(parent_disk("/dev/sdb"), None);
        assert_eq!(parent_disk("/dev/nvme0n1"), None);
        assert_eq!(parent_disk("/dev/dm-0"), None);
        assert_eq!(
            split_dm_name("vg0-data"),
            Some(("vg0".into(), "data".into()))
        );
        assert_eq!(
            split_dm_name("my--vg-lv--x"),
            Some(("my-vg".into(), "lv-x".into()))
        );
        assert_eq!(split_dm_name("luks"), None);
        assert_eq!(unescape("/mnt/a\\040b"), "/mnt/a b");
        assert!(component_matches("data*", "data2"));
        assert!(component_matches("*", "x"));
        assert!(!component_matches("data?", "data"));
        assert_eq!(glob_dir("/var/lib/*"), "/var/lib");
        assert_eq!(glob_dir("/*"), "/");
        assert_eq!(
            config_value("datadir=/a\ndatadir = '/b'\n", "datadir").as_deref(),
            Some("/b")
        );
        assert_eq!(config_value("datadirx = /a\n", "datadir"), None);
        assert_eq!(
            data_arg(&["postgres".into(), "-D/x".into()]).as_deref(),
            Some("/x")
        );
        assert_eq!(data_arg(&["x".into(), "--dir".into(), "rel".into()]), None);
    }

    #[test]
    fn the_example_and_elsewhere() {
        let p = Protected::example();
        assert!(p.path("/var/lib/postgresql/15/main").is_some());
        assert!(p.pid(4242).is_some());
        assert!(p.device("/dev/sdb").is_some());
        let e = Protected::elsewhere();
        assert!(e.path("/var/lib/anything/x").is_some());
        assert!(e.path("/data7/x").is_some());
        assert!(e.path("/var/lib/apt/lists/x").is_none());
        assert!(e.process("mongod", false).is_some());
        assert!(e.device("/dev/sda").is_none());
    }
}
