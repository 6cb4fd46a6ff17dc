//! Loading packs: embedded (lazily, by program) and the site's (`policies.d`), with every error
//! reported at once and a strict fallback when any site pack is broken.

use super::blocks::split_blocks;
use super::diag::{did_you_mean, unknown_and_expected, Diagnostic};
use super::embedded;
use super::matcher::Match;
use super::raw::{RawFreeze, RawPack};
use super::rule::{compile, Rule, Validate};
use super::when::{self, Freeze};
use crate::host::HostContext;
use crate::shell::Invocation;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where site packs live by default.
pub const DEFAULT_POLICY_DIR: &str = "/etc/prodguard/policies.d";

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Site pack directory; [`DEFAULT_POLICY_DIR`] when `None`.
    pub policy_dir: Option<PathBuf>,
    /// Leave the embedded packs out (for testing a site pack on its own).
    pub no_embedded: bool,
}

/// A pack that was loaded, for `status` and the audit record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceInfo {
    /// `embedded:filesystem.toml` or the file path.
    pub name: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
}

/// Embedded rules parsed so far, by (pack, rule) position; `None` for one that failed to parse.
type RuleCache = HashMap<(usize, usize), Option<Arc<Rule>>>;

/// Every rule in force, loaded lazily where possible.
pub struct PolicySet {
    external: Vec<Arc<Rule>>,
    overridden: HashSet<String>,
    disabled: HashSet<String>,
    cache: Mutex<RuleCache>,
    embedded: bool,
    /// The packs in force, in load order.
    pub sources: Vec<SourceInfo>,
    /// sha256 over all packs in force.
    pub digest: String,
    /// Errors in the site packs. When not empty, the site packs are ignored and `strict` is set.
    pub errors: Vec<Diagnostic>,
    /// Problems in the site packs that do not stop them loading (a flag name no option table
    /// knows); `policy lint` reports them as errors.
    pub warnings: Vec<Diagnostic>,
    /// The strict fallback is in force: every rule that matches asks at least for confirmation.
    pub strict: bool,
    /// Dated change freezes the site packs define.
    pub freezes: Vec<Freeze>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("sources", &self.sources)
            .field("strict", &self.strict)
            .field("errors", &self.errors.len())
            .finish()
    }
}

/// The files of a pack directory that are packs, in load order. A missing directory is empty.
#[allow(clippy::result_large_err)] // one per call, on an error path
fn pack_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    match std::fs::read_dir(dir) {
        Ok(rd) => {
            let mut v: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            v.sort();
            Ok(v)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Diagnostic::file(
            &dir.display().to_string(),
            format!("cannot read the policy directory: {e}"),
        )),
    }
}

/// The largest site pack loaded, in bytes (1 MiB). The embedded packs together are a tenth of it;
/// a larger file is a mistake (or an attack on every login) and is refused, which puts the strict
/// fallback in force.
pub const MAX_PACK_BYTES: u64 = 1024 * 1024;

/// What a directory entry that is not a regular file is, for the warning that skips it.
fn kind_of(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The bytes of a site pack. A FIFO, socket, device or directory is never read (opening a FIFO
/// blocks until a writer comes): the error is a warning, and the entry is skipped. A file over
/// [`MAX_PACK_BYTES`], one anyone may write, or one that cannot be read is an error.
#[allow(clippy::result_large_err)] // one per call, on an error path
fn read_pack(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.display().to_string();
    let cannot = |e: std::io::Error| Diagnostic::file(&name, format!("cannot load: {e}"));
    let skip = |ft: &std::fs::FileType| {
        Diagnostic::file(
            &name,
            format!("skipped: {} is not a policy file", kind_of(ft)),
        )
        .as_warning()
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(skip(&meta.file_type()));
    }
    // O_NONBLOCK: should the name be swapped for a FIFO after the check above, opening it
    // returns at once; the checks below are on what was opened.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(skip(&meta.file_type()));
    }
    if let Some(d) = check_permissions(path, &meta) {
        return Err(Diagnostic::file(
            &name,
            format!("cannot load: {}", d.message),
        ));
    }
    let too_big = |len: u64| {
        Diagnostic::file(
            &name,
            format!(
                "refusing a policy file of {len} bytes: the limit is {MAX_PACK_BYTES} bytes (1 MiB); split it into several packs"
            ),
        )
    };
    if meta.len() > MAX_PACK_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_PACK_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_PACK_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Site pack files are held to the rule of [`crate::host::trust`]: a guard whose policy another
/// user can edit guards nothing. Checked on the file that was opened and on its directories.
fn check_permissions(path: &Path, meta: &std::fs::Metadata) -> Option<Diagnostic> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    let open = meta.mode() & 0o022 != 0 || (meta.uid() != 0 && meta.uid() != uid);
    let why = if open {
        Some(format!(
            "refusing a policy file writable by others (owner uid {}, mode {:o}); as root: chown root {} && chmod go-w {}",
            meta.uid(),
            meta.mode() & 0o7777,
            path.display(),
            path.display()
        ))
    } else {
        crate::host::trust::check(path, uid)
            .err()
            .map(|e| format!("refusing a policy file in an unsafe place: {e}"))
    };
    why.map(|why| Diagnostic::file(&path.display().to_string(), why))
}

/// A parsed site pack.
pub(crate) struct ParsedPack {
    pub rules: Vec<Rule>,
    pub disable: Vec<String>,
    pub freezes: Vec<Freeze>,
}

fn compile_freezes(
    raw: &[RawFreeze],
    file: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Freeze> {
    let mut out: Vec<Freeze> = Vec::new();
    for f in raw {
        let name = f.name.get_ref().trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            diags.push(Diagnostic::at(
                file,
                text,
                f.name.span(),
                "a freeze name must be a non-empty word such as `holidays`".into(),
            ));
            continue;
        }
        if out.iter().any(|o| o.name == name) {
            diags.push(Diagnostic::at(
                file,
                text,
                f.name.span(),
                format!("duplicate freeze `{name}` in this pack"),
            ));
            continue;
        }
        match Freeze::new(name, f.from.get_ref(), f.to.get_ref(), f.reason.clone()) {
            Ok(fr) => out.push(fr),
            Err(e) => {
                let span = if when::parse_bound(f.from.get_ref(), false).is_err() {
                    f.from.span()
                } else {
                    f.to.span()
                };
                diags.push(Diagnostic::at(file, text, span, e));
            }
        }
    }
    out
}

/// Rules that name a freeze no loaded pack defines, as diagnostics.
pub(crate) fn unknown_freezes<'a>(
    rules: impl Iterator<Item = (&'a Rule, &'a str)>,
    freezes: &[Freeze],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (rule, file) in rules {
        let conds = std::iter::once(&rule.when.cond)
            .chain(rule.escalate.iter().map(|e| &e.when.cond))
            .chain(rule.exempt.iter().map(|e| &e.cond));
        for c in conds {
            for name in c.freeze_names() {
                if !freezes.iter().any(|f| f.name == name) {
                    out.push(Diagnostic::file(
                        file,
                        format!(
                            "rule `{}` names freeze `{name}`, which no pack defines (`[[freeze]] name = \"{name}\"`)",
                            rule.id
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// Parse and validate one pack's text. Returns every error in the file, not just the first:
/// a file that does not parse as a whole is parsed again block by block.
pub(crate) fn parse_pack(file: &str, pack: &str, text: &str) -> (ParsedPack, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out = ParsedPack {
        rules: Vec::new(),
        disable: Vec::new(),
        freezes: Vec::new(),
    };
    match toml::from_str::<RawPack>(text) {
        Ok(raw) => {
            out.disable = raw.disable.iter().map(|d| d.get_ref().clone()).collect();
            out.freezes = compile_freezes(&raw.freeze, file, text, &mut diags);
            let mut seen: HashMap<String, ()> = HashMap::new();
            for r in raw.rule {
                let span = r.id.span();
                if let Some(rule) = compile(r, pack, file, text, &mut diags, Validate::Now) {
                    if seen.insert(rule.id.clone(), ()).is_some() {
                        diags.push(Diagnostic::at(
                            file,
                            text,
                            span,
                            format!("duplicate rule id `{}` in this pack", rule.id),
                        ));
                    }
                    out.rules.push(rule);
                }
            }
        }
        Err(_) => {
            // Each piece is parsed on its own and its diagnostics moved down by the lines before
            // it, so that the whole is linear in the size of the file.
            let (header, blocks) = split_blocks(text);
            let mut pieces = vec![header];
            pieces.extend(blocks);
            let mut lines_before = 0;
            let mut counted_to = 0;
            for range in pieces.into_iter().filter(|r| !r.is_empty()) {
                lines_before += text[counted_to..range.start].matches('\n').count();
                counted_to = range.start;
                let piece = &text[range];
                let mut piece_diags = Vec::new();
                match toml::from_str::<RawPack>(piece) {
                    Ok(raw) => {
                        out.freezes.extend(compile_freezes(
                            &raw.freeze,
                            file,
                            piece,
                            &mut piece_diags,
                        ));
                        for r in raw.rule {
                            if let Some(rule) =
                                compile(r, pack, file, piece, &mut piece_diags, Validate::Now)
                            {
                                out.rules.push(rule);
                            }
                        }
                    }
                    Err(e) => piece_diags.push(toml_diag(file, piece, &e)),
                }
                diags.extend(piece_diags.into_iter().map(|mut d| {
                    if d.line > 0 {
                        d.line += lines_before;
                    }
                    d
                }));
            }
        }
    }
    (out, diags)
}

fn toml_diag(file: &str, text: &str, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim().to_string();
    let span = e.span().unwrap_or(0..1);
    let span = span.start..span.end.max(span.start + 1);
    let help = unknown_and_expected(&message).and_then(|(word, expected)| {
        did_you_mean(&word, expected.iter().map(String::as_str))
            .or_else(|| Some(format!("expected one of: {}", expected.join(", "))))
    });
    Diagnostic::at(file, text, span, message).with_help(help)
}

impl PolicySet {
    /// Load the embedded packs (lazily) and the site packs. Never fails: errors in site packs
    /// put the strict fallback in force and are kept in `errors`.
    pub fn load(opts: &LoadOptions) -> PolicySet {
        let dir = opts
            .policy_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR));
        let mut set = PolicySet::embedded_only(!opts.no_embedded);
        let files = match pack_files(&dir) {
            Ok(f) => f,
            Err(d) => {
                set.fail(vec![d]);
                return set;
            }
        };
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        // A later rule of the same id replaces an earlier one: by slot, not by search, so that
        // loading is linear in the number of rules.
        let mut external: Vec<Option<Rule>> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        let mut disabled = HashSet::new();
        let mut sources = Vec::new();
        let mut freezes: Vec<Freeze> = Vec::new();
        let mut rule_files: HashMap<String, String> = HashMap::new();
        for path in files {
            let name = path.display().to_string();
            let bytes = match read_pack(&path) {
                Ok(b) => b,
                Err(d) if d.warning => {
                    warnings.push(d);
                    continue;
                }
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                errors.push(Diagnostic::file(&name, "not valid UTF-8".into()));
                continue;
            };
            let pack = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("site")
                .to_string();
            let (parsed, diags) = parse_pack(&name, &pack, text);
            let (warned, failed): (Vec<_>, Vec<_>) = diags.into_iter().partition(|d| d.warning);
            errors.extend(failed);
            warnings.extend(warned);
            for f in parsed.freezes {
                if freezes.iter().any(|o| o.name == f.name) {
                    errors.push(Diagnostic::file(
                        &name,
                        format!("freeze `{}` is defined by an earlier pack too", f.name),
                    ));
                }
                freezes.push(f);
            }
            for r in &parsed.rules {
                rule_files.insert(r.id.clone(), name.clone());
            }
            for id in parsed.disable {
                if let Some(i) = position.remove(&id) {
                    external[i] = None;
                }
                disabled.insert(id);
            }
            for rule in parsed.rules {
                if let Some(i) = position.get(&rule.id) {
                    external[*i] = None;
                }
                disabled.remove(&rule.id);
                position.insert(rule.id.clone(), external.len());
                external.push(Some(rule));
            }
            sources.push(SourceInfo {
                name,
                sha256: sha256_hex(&bytes),
            });
        }
        let external: Vec<Rule> = external.into_iter().flatten().collect();
        errors.extend(unknown_freezes(
            external.iter().map(|r| {
                let file = rule_files.get(&r.id).map_or("site", String::as_str);
                (r, file)
            }),
            &freezes,
        ));
        if !errors.is_empty() {
            set.fail(errors);
            return set;
        }
        set.warnings = warnings;
        set.freezes = freezes;
        set.overridden = external.iter().map(|r| r.id.clone()).collect();
        set.external = external.into_iter().map(Arc::new).collect();
        set.disabled = disabled;
        set.sources.extend(sources);
        set.digest = set.compute_digest();
        set
    }

    /// Only the embedded packs (or nothing).
    pub fn embedded_only(embedded: bool) -> PolicySet {
        let sources = if embedded {
            embedded::PACKS
                .iter()
                .map(|p| SourceInfo {
                    name: format!("embedded:{}", p.file),
                    sha256: p.sha256.to_string(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut set = PolicySet {
            external: Vec::new(),
            overridden: HashSet::new(),
            disabled: HashSet::new(),
            cache: Mutex::new(HashMap::new()),
            embedded,
            sources,
            digest: String::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            strict: false,
            freezes: Vec::new(),
        };
        set.digest = set.compute_digest();
        set
    }

    fn fail(&mut self, errors: Vec<Diagnostic>) {
        self.errors = errors;
        self.strict = true;
        self.digest = self.compute_digest();
    }

    fn compute_digest(&self) -> String {
        if self.sources.len() == embedded::PACKS.len() && self.embedded && !self.strict {
            return embedded::DIGEST.to_string();
        }
        let mut h = Sha256::new();
        h.update(embedded::DIGEST.as_bytes());
        for s in &self.sources {
            h.update(s.name.as_bytes());
            h.update(s.sha256.as_bytes());
        }
        if self.strict {
            h.update(b"strict-fallback");
        }
        hex::encode(h.finalize())
    }

    /// The rules that could apply to `program`, in load order.
    pub fn rules_for(&self, program: &str) -> Vec<Arc<Rule>> {
        let mut out = Vec::new();
        if self.embedded {
            let mut positions: Vec<(usize, usize)> = embedded::lookup(program).to_vec();
            positions.extend_from_slice(embedded::lookup("*"));
            positions.sort_unstable();
            positions.dedup();
            for pos in positions {
                if let Some(rule) = self.embedded_rule(pos) {
                    if !self.disabled.contains(&rule.id) && !self.overridden.contains(&rule.id) {
                        out.push(rule);
                    }
                }
            }
        }
        out.extend(
            self.external
                .iter()
                .filter(|r| r.index_keys().iter().any(|k| *k == "*" || *k == program))
                .cloned(),
        );
        out
    }

    fn embedded_rule(&self, (p, r): (usize, usize)) -> Option<Arc<Rule>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = cache.get(&(p, r)) {
            return hit.clone();
        }
        let pack = embedded::PACKS.get(p)?;
        let &(start, end) = pack.rules.get(r)?;
        let name = pack.file.trim_end_matches(".toml");
        let rule = toml::from_str::<RawPack>(pack.text.get(start..end)?)
            .ok()
            .and_then(|raw| raw.rule.into_iter().next())
            .and_then(|raw| {
                compile(
                    raw,
                    name,
                    pack.file,
                    pack.text,
                    &mut Vec::new(),
                    Validate::Skip,
                )
            })
            .map(Arc::new);
        cache.insert((p, r), rule.clone());
        rule
    }

    /// Every rule in force, parsed eagerly, with the errors of the embedded packs (there should be
    /// none: the test suite checks). For `policy show`/`test`.
    pub fn all_rules(&self) -> (Vec<Arc<Rule>>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut diags = Vec::new();
        if self.embedded {
            for p in embedded::PACKS {
                let file = format!("embedded:{}", p.file);
                let (parsed, d) = parse_pack(&file, p.file.trim_end_matches(".toml"), p.text);
                diags.extend(d.into_iter().map(as_error));
                out.extend(
                    parsed
                        .rules
                        .into_iter()
                        .filter(|r| {
                            !self.disabled.contains(&r.id) && !self.overridden.contains(&r.id)
                        })
                        .map(Arc::new),
                );
            }
        }
        out.extend(self.external.iter().cloned());
        (out, diags)
    }

    /// Whether any rule in force has an `ssh` condition, so that the session's origin can change
    /// a verdict. An embedded rule is parsed only when its text names `ssh` at all.
    pub fn uses_origin(&self) -> bool {
        if self.external.iter().any(|r| r.uses_origin()) {
            return true;
        }
        if !self.embedded {
            return false;
        }
        embedded::PACKS.iter().enumerate().any(|(p, pack)| {
            pack.rules.iter().enumerate().any(|(r, &(start, end))| {
                pack.text.get(start..end).is_none_or(|t| t.contains("ssh"))
                    && self.embedded_rule((p, r)).is_some_and(|rule| {
                        rule.uses_origin()
                            && !self.disabled.contains(&rule.id)
                            && !self.overridden.contains(&rule.id)
                    })
            })
        })
    }

    /// Every rule in force, through the same cache as [`PolicySet::rules_for`]: the rules a
    /// program that is not known before it runs could meet.
    pub fn rules_for_any(&self) -> Vec<Arc<Rule>> {
        let mut out = Vec::new();
        if self.embedded {
            for (p, pack) in embedded::PACKS.iter().enumerate() {
                for r in 0..pack.rules.len() {
                    if let Some(rule) = self.embedded_rule((p, r)) {
                        if !self.disabled.contains(&rule.id) && !self.overridden.contains(&rule.id)
                        {
                            out.push(rule);
                        }
                    }
                }
            }
        }
        out.extend(self.external.iter().cloned());
        out
    }

    /// Every rule that matches `inv` on `host`. A program not known before it runs is every
    /// program: every rule is tried (see `Rule::matches_in`).
    pub fn evaluate(&self, inv: &Invocation, index: usize, host: &HostContext) -> Vec<Match> {
        let rules = if inv.program_unknown {
            self.rules_for_any()
        } else {
            self.rules_for(&inv.program)
        };
        rules
            .iter()
            .filter(|r| r.applies(host, &self.freezes))
            .filter_map(|r| r.matches_in(inv, index, host, &self.freezes))
            .collect()
    }
}

/// [`read_pack`] as text.
#[allow(clippy::result_large_err)] // one per call, on an error path
fn read_pack_text(path: &Path) -> Result<String, Diagnostic> {
    String::from_utf8(read_pack(path)?)
        .map_err(|_| Diagnostic::file(&path.display().to_string(), "not valid UTF-8".into()))
}

/// A warning `policy lint` reports as an error.
fn as_error(mut d: Diagnostic) -> Diagnostic {
    d.warning = false;
    d
}

/// Lint pack files: every error of every file, warnings included as errors.
pub fn lint_files(paths: &[PathBuf]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut rules = Vec::new();
    let mut freezes = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        match read_pack_text(path) {
            Ok(text) => {
                let pack = path.file_stem().and_then(|s| s.to_str()).unwrap_or("site");
                let (parsed, diags) = parse_pack(&name, pack, &text);
                out.extend(diags.into_iter().map(as_error));
                freezes.extend(parsed.freezes);
                rules.extend(parsed.rules.into_iter().map(|r| (r, name.clone())));
            }
            Err(d) => out.push(as_error(d)),
        }
    }
    out.extend(unknown_freezes(
        rules.iter().map(|(r, f)| (r, f.as_str())),
        &freezes,
    ));
    out
}

/// The rules of pack files that compile (for lint warnings).
pub fn lint_rules(paths: &[PathBuf]) -> Vec<Rule> {
    let mut out: Vec<Option<Rule>> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for path in paths {
        if let Ok(text) = read_pack_text(path) {
            let name = path.display().to_string();
            let pack = path.file_stem().and_then(|s| s.to_str()).unwrap_or("site");
            for r in parse_pack(&name, pack, &text).0.rules {
                if let Some(i) = position.get(&r.id) {
                    out[*i] = None;
                }
                position.insert(r.id.clone(), out.len());
                out.push(Some(r));
            }
        }
    }
    out.into_iter().flatten().collect()
}

/// The files `policy lint` checks by default: the site pack directory.
#[allow(clippy::result_large_err)] // one per call, on an error path
pub fn site_pack_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    pack_files(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const RULE: &str = "[[rule]]\nid = \"site.one\"\naction = \"deny\"\nmessage = \"m\"\nmatch = { program = [\"rm\"] }\n";

    fn load_dir(dir: &Path) -> PolicySet {
        PolicySet::load(&LoadOptions {
            policy_dir: Some(dir.to_path_buf()),
            no_embedded: true,
        })
    }

    /// Load in a thread, failing the test instead of hanging it.
    fn load_within(dir: &Path, limit: Duration) -> PolicySet {
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            let _ = tx.send(load_dir(&dir));
        });
        rx.recv_timeout(limit)
            .expect("loading the policy directory did not finish: it blocked")
    }

    #[test]
    fn a_pack_others_may_write_falls_back_to_strict() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join("10-site.toml");
        std::fs::write(&pack, RULE).unwrap();
        let chmod = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        chmod(&pack, 0o644);
        assert!(!load_dir(dir.path()).strict);
        for (file_mode, dir_mode) in [(0o664, 0o755), (0o646, 0o755), (0o644, 0o775)] {
            chmod(&pack, file_mode);
            chmod(dir.path(), dir_mode);
            let set = load_dir(dir.path());
            assert!(
                set.strict,
                "file {file_mode:o} in dir {dir_mode:o} was loaded"
            );
            assert!(
                set.errors[0].message.contains("refusing a policy file"),
                "{}",
                set.errors[0].message
            );
        }
        chmod(dir.path(), 0o755);
    }

    #[test]
    fn fifo_in_the_policy_directory_is_skipped_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("10-site.toml"), RULE).unwrap();
        let fifo = dir.path().join("20-fifo.toml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let set = load_within(dir.path(), Duration::from_secs(20));
        assert!(!set.strict, "{:?}", set.errors);
        assert_eq!(set.rules_for("rm").len(), 1, "the other pack still loads");
        assert_eq!(set.warnings.len(), 1, "{:?}", set.warnings);
        assert!(
            set.warnings[0]
                .message
                .contains("skipped: a FIFO is not a policy file"),
            "{}",
            set.warnings[0].message
        );
        // `policy lint` reports it, and does not hang either.
        let lint = lint_files(&[fifo]);
        assert_eq!(lint.len(), 1);
        assert!(!lint[0].warning);
    }

    #[test]
    fn directory_named_like_a_pack_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("30-dir.toml")).unwrap();
        let set = load_within(dir.path(), Duration::from_secs(20));
        assert!(!set.strict);
        assert!(set.warnings[0].message.contains("a directory"));
    }

    #[test]
    fn oversized_pack_is_refused_and_the_strict_fallback_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut big = String::from(RULE);
        let filler = "# filler comment line to make the pack large\n";
        while big.len() as u64 <= MAX_PACK_BYTES {
            big.push_str(filler);
        }
        std::fs::write(dir.path().join("10-big.toml"), &big).unwrap();
        let set = load_dir(dir.path());
        assert!(set.strict);
        assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
        let msg = &set.errors[0].message;
        assert!(
            msg.contains("refusing a policy file of") && msg.contains("the limit is 1048576 bytes"),
            "{msg}"
        );
        assert!(set.rules_for("rm").is_empty(), "nothing of it is used");
    }

    #[test]
    fn pack_at_the_size_cap_loads() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from(RULE);
        let filler = "#\n";
        while (text.len() + filler.len()) as u64 <= MAX_PACK_BYTES {
            text.push_str(filler);
        }
        std::fs::write(dir.path().join("10-site.toml"), &text).unwrap();
        let set = load_dir(dir.path());
        assert!(!set.strict, "{:?}", set.errors);
    }

    #[test]
    fn errors_in_a_pack_that_does_not_parse_keep_their_lines() {
        let text = format!("bogus = [\n{RULE}\n[[rule]]\nid = \"site.two\"\nacton = \"deny\"\n");
        let (_, d) = parse_pack("p.toml", "p", &text);
        let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        assert_eq!(lines, [2, 10], "{d:?}");
        assert_eq!(d[1].source_line.as_deref(), Some("acton = \"deny\""));
    }

    #[test]
    fn a_later_rule_replaces_an_earlier_one_in_place_of_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("10-a.toml"), RULE).unwrap();
        std::fs::write(
            dir.path().join("20-b.toml"),
            format!(
                "disable = [\"site.none\"]\n{}",
                RULE.replace("deny", "warn")
            ),
        )
        .unwrap();
        let set = load_dir(dir.path());
        let rules = set.rules_for("rm");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].action, crate::policy::Action::Warn);
    }
}
