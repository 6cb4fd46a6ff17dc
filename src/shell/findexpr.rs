//! The expression of a `find` command (`-name '*.core' -size +10M -exec rm {} \;`), read so
//! that what it would act on can be decided entry by entry: for each file under its roots,
//! whether evaluation as GNU find does it can reach an action (`-exec`, `-delete`, `-print`…).
//!
//! Tests this module knows (`-name`, `-type`, `-user`, `-size`, `-empty`…) are decided on the
//! entry; every other test (times, `-regex`, `-perm`, a value not known before it runs) may go
//! either way. An action's own result is not known either (`-exec` is true when its command
//! succeeds). So the answer errs only towards "it may reach an action".

use super::word::Word;
use globset::{GlobBuilder, GlobMatcher};

/// What an entry is, as `find` sees it (`lstat`: symbolic links are not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Link,
    Other(char),
}

/// One file found under a root: its path as find prints it and what `lstat` says of it.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub path: &'a str,
    /// Levels below the root (the root itself is 0).
    pub depth: usize,
    pub kind: Kind,
    pub size: u64,
    pub uid: u32,
    pub gid: u32,
    /// A directory with nothing in it, or a file of size 0.
    pub empty: bool,
    /// The owner and group have a name in the system's databases.
    pub user_known: bool,
    pub group_known: bool,
}

#[derive(Debug, Clone)]
enum Test {
    Name(GlobMatcher),
    Type(Vec<char>),
    Uid(u32),
    Gid(u32),
    NoUser,
    NoGroup,
    /// `-size [+-]N[unit]`: comparison (-1, 0, 1), count, unit bytes.
    Size(i8, u64, u64),
    Empty,
    Const(bool),
    /// Not decided here.
    Maybe,
}

#[derive(Debug, Clone)]
enum Node {
    Test(Test),
    /// An action: it is reached; what it returns is not known (`-print` is always true).
    Action {
        always_true: bool,
    },
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    /// `A , B`: both evaluated, the value is B's.
    Comma(Box<Node>, Box<Node>),
}

/// A parsed `find` expression with its global options.
#[derive(Debug, Clone)]
pub struct FindExpr {
    node: Node,
    /// No action in the expression: find prints what it selects.
    implicit_print: bool,
    min_depth: usize,
    max_depth: usize,
}

/// Two expressions from the same words are the same; the compiled patterns are not compared.
impl PartialEq for FindExpr {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
            || (self.implicit_print == other.implicit_print
                && self.min_depth == other.min_depth
                && self.max_depth == other.max_depth
                && format!("{:?}", self.node) == format!("{:?}", other.node))
    }
}
impl Eq for FindExpr {}

/// Three-valued truth: `None` is "either".
type Truth = Option<bool>;

impl FindExpr {
    /// The expression in `ws` (after the roots). `None` when it cannot be read: an unknown
    /// word where a test or operator goes, unbalanced parentheses, symbolic links followed
    /// (`-L`, `-follow`: what lies under a link is not what `lstat` shows).
    pub(crate) fn parse(ws: &[Word]) -> Option<FindExpr> {
        let mut p = Parser {
            ws,
            i: 0,
            min_depth: 0,
            max_depth: usize::MAX,
            actions: false,
        };
        let node = if ws.is_empty() {
            Node::Test(Test::Const(true))
        } else {
            p.or()?
        };
        if p.i != ws.len() {
            return None;
        }
        Some(FindExpr {
            node,
            implicit_print: !p.actions,
            min_depth: p.min_depth,
            max_depth: p.max_depth,
        })
    }

    /// The expression of whitespace-separated literal words (tests).
    #[cfg(test)]
    pub(crate) fn of_words(s: &str) -> Option<FindExpr> {
        let ws: Vec<Word> = s.split_whitespace().map(Word::literal).collect();
        FindExpr::parse(&ws)
    }

    /// Whether evaluating the expression on `e` may reach an action (with no action in it: may
    /// select `e` for the implicit `-print`).
    pub fn may_act_on(&self, e: &Entry<'_>) -> bool {
        if e.depth < self.min_depth || e.depth > self.max_depth {
            return false;
        }
        let mut reached = false;
        let value = eval(&self.node, e, &mut reached);
        reached || (self.implicit_print && value != Some(false))
    }

    /// Deeper than this, nothing is looked at.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }
}

fn eval(n: &Node, e: &Entry<'_>, reached: &mut bool) -> Truth {
    match n {
        Node::Test(t) => test(t, e),
        Node::Action { always_true } => {
            *reached = true;
            always_true.then_some(true)
        }
        Node::Not(a) => eval(a, e, reached).map(|v| !v),
        Node::And(a, b) => match eval(a, e, reached) {
            Some(false) => Some(false),
            Some(true) => eval(b, e, reached),
            None => match eval(b, e, reached) {
                Some(false) => Some(false),
                _ => None,
            },
        },
        Node::Or(a, b) => match eval(a, e, reached) {
            Some(true) => Some(true),
            Some(false) => eval(b, e, reached),
            None => match eval(b, e, reached) {
                Some(true) => Some(true),
                _ => None,
            },
        },
        Node::Comma(a, b) => {
            eval(a, e, reached);
            eval(b, e, reached)
        }
    }
}

fn test(t: &Test, e: &Entry<'_>) -> Truth {
    Some(match t {
        Test::Name(g) => {
            let base = e.path.trim_end_matches('/');
            let base = base
                .rsplit('/')
                .next()
                .filter(|b| !b.is_empty())
                .unwrap_or("/");
            g.is_match(base)
        }
        Test::Type(kinds) => kinds.iter().any(|k| {
            matches!(
                (k, e.kind),
                ('f', Kind::File) | ('d', Kind::Dir) | ('l', Kind::Link)
            ) || matches!(e.kind, Kind::Other(c) if c == *k)
        }),
        Test::Uid(u) => e.uid == *u,
        Test::Gid(g) => e.gid == *g,
        Test::NoUser => !e.user_known,
        Test::NoGroup => !e.group_known,
        Test::Size(cmp, n, unit) => {
            // GNU find rounds the size up to whole units.
            let units = e.size.div_ceil(*unit);
            match cmp {
                1 => units > *n,
                -1 => units < *n,
                _ => units == *n,
            }
        }
        Test::Empty => e.empty && matches!(e.kind, Kind::File | Kind::Dir),
        Test::Const(v) => *v,
        Test::Maybe => return None,
    })
}

struct Parser<'w> {
    ws: &'w [Word],
    i: usize,
    min_depth: usize,
    max_depth: usize,
    actions: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.ws.get(self.i).map(|w| w.value.as_str())
    }

    fn or(&mut self) -> Option<Node> {
        let mut left = self.and()?;
        loop {
            match self.peek() {
                Some("-o" | "-or") => {
                    self.i += 1;
                    left = Node::Or(Box::new(left), Box::new(self.and()?));
                }
                Some(",") => {
                    self.i += 1;
                    left = Node::Comma(Box::new(left), Box::new(self.and()?));
                }
                _ => return Some(left),
            }
        }
    }

    fn and(&mut self) -> Option<Node> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                None | Some("-o" | "-or" | "," | ")") => return Some(left),
                Some("-a" | "-and") => self.i += 1,
                Some(_) => {}
            }
            left = Node::And(Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Option<Node> {
        match self.peek()? {
            "!" | "-not" => {
                self.i += 1;
                Some(Node::Not(Box::new(self.unary()?)))
            }
            "(" => {
                self.i += 1;
                let inner = self.or()?;
                (self.peek()? == ")").then_some(())?;
                self.i += 1;
                Some(inner)
            }
            _ => self.primary(),
        }
    }

    /// The value after a test or option, known or not.
    fn arg(&mut self) -> Option<&Word> {
        let w = self.ws.get(self.i)?;
        self.i += 1;
        Some(w)
    }

    fn primary(&mut self) -> Option<Node> {
        let w = self.ws.get(self.i)?;
        if !w.known {
            return None;
        }
        self.i += 1;
        let t = |t| Some(Node::Test(t));
        let name = w.value.as_str();
        match name {
            "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-iwholename" => {
                let v = self.arg()?;
                if !v.known {
                    return t(Test::Maybe);
                }
                let matcher = GlobBuilder::new(&v.value)
                    .case_insensitive(name.starts_with("-i"))
                    .literal_separator(false)
                    .backslash_escape(true)
                    .empty_alternates(true)
                    .build()
                    .ok()
                    .map(|g| g.compile_matcher());
                // `{a,b}` means itself to find, alternatives to globset. A path is matched as
                // find prints it, relative to a root given relative: not decided here.
                match matcher {
                    Some(m)
                        if !v.value.contains(['{', '}']) && matches!(name, "-name" | "-iname") =>
                    {
                        t(Test::Name(m))
                    }
                    _ => t(Test::Maybe),
                }
            }
            "-type" => {
                let v = self.arg()?;
                let kinds: Vec<char> = v
                    .value
                    .split(',')
                    .filter_map(|k| k.chars().next())
                    .collect();
                if !v.known || kinds.is_empty() {
                    return t(Test::Maybe);
                }
                t(Test::Type(kinds))
            }
            "-user" | "-uid" | "-group" | "-gid" => {
                let v = self.arg()?;
                let user = matches!(name, "-user" | "-uid");
                let id = if !v.known {
                    None
                } else if let Ok(n) = v.value.parse::<u32>() {
                    Some(n)
                } else if name == "-user" {
                    nix::unistd::User::from_name(&v.value)
                        .ok()
                        .flatten()
                        .map(|u| u.uid.as_raw())
                } else if name == "-group" {
                    nix::unistd::Group::from_name(&v.value)
                        .ok()
                        .flatten()
                        .map(|g| g.gid.as_raw())
                } else {
                    None
                };
                match (id, user) {
                    (Some(id), true) => t(Test::Uid(id)),
                    (Some(id), false) => t(Test::Gid(id)),
                    (None, _) => t(Test::Maybe),
                }
            }
            "-nouser" => t(Test::NoUser),
            "-nogroup" => t(Test::NoGroup),
            "-size" => {
                let v = self.arg()?;
                t(if v.known { size(&v.value) } else { Test::Maybe })
            }
            "-empty" => t(Test::Empty),
            "-true" => t(Test::Const(true)),
            "-false" => t(Test::Const(false)),
            "-maxdepth" | "-mindepth" => {
                let v = self.arg()?;
                let n: usize = if v.known {
                    v.value.parse().ok()?
                } else {
                    return None;
                };
                if name == "-maxdepth" {
                    self.max_depth = self.max_depth.min(n);
                } else {
                    self.min_depth = self.min_depth.max(n);
                }
                t(Test::Const(true))
            }
            "-follow" => None,
            // Options that change nothing decided here, true where they stand.
            "-depth"
            | "-d"
            | "-xdev"
            | "-mount"
            | "-noleaf"
            | "-daystart"
            | "-ignore_readdir_race"
            | "-noignore_readdir_race"
            | "-warn"
            | "-nowarn"
            | "-prune"
            | "-quit" => t(Test::Const(true)),
            "-regextype" => {
                self.arg()?;
                t(Test::Const(true))
            }
            // Tests of times, permissions, links and the like: not decided here.
            "-amin" | "-anewer" | "-atime" | "-cmin" | "-cnewer" | "-ctime" | "-mmin"
            | "-mtime" | "-newer" | "-used" | "-perm" | "-links" | "-inum" | "-samefile"
            | "-regex" | "-iregex" | "-lname" | "-ilname" | "-fstype" | "-xtype" | "-context" => {
                self.arg()?;
                t(Test::Maybe)
            }
            n if n.starts_with("-newer") && n.len() == 8 => {
                self.arg()?;
                t(Test::Maybe)
            }
            "-readable" | "-writable" | "-executable" => t(Test::Maybe),
            "-print" | "-print0" | "-ls" => {
                self.actions = true;
                Some(Node::Action { always_true: true })
            }
            "-delete" => {
                self.actions = true;
                Some(Node::Action { always_true: false })
            }
            "-printf" | "-fprint" | "-fprint0" | "-fls" => {
                self.arg()?;
                self.actions = true;
                Some(Node::Action { always_true: true })
            }
            "-fprintf" => {
                self.arg()?;
                self.arg()?;
                self.actions = true;
                Some(Node::Action { always_true: true })
            }
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let start = self.i;
                while let Some(x) = self.ws.get(self.i) {
                    self.i += 1;
                    if x.value == ";"
                        || (x.value == "+"
                            && self.i - 1 > start
                            && self.ws[self.i - 2].value == "{}")
                    {
                        self.actions = true;
                        return Some(Node::Action { always_true: false });
                    }
                }
                None
            }
            _ => None,
        }
    }
}

/// `-size [+-]N[cwbkMG]`.
fn size(v: &str) -> Test {
    let (cmp, rest) = match v.as_bytes().first() {
        Some(b'+') => (1, &v[1..]),
        Some(b'-') => (-1, &v[1..]),
        _ => (0, v),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Ok(n) = rest[..digits].parse::<u64>() else {
        return Test::Maybe;
    };
    let unit = match &rest[digits..] {
        "" | "b" => 512,
        "c" => 1,
        "w" => 2,
        "k" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Test::Maybe,
    };
    Test::Size(cmp, n, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(s: &str) -> FindExpr {
        let ws: Vec<Word> = s.split_whitespace().map(Word::literal).collect();
        FindExpr::parse(&ws).unwrap_or_else(|| panic!("not read: {s}"))
    }

    fn file<'a>(path: &'a str, size: u64) -> Entry<'a> {
        Entry {
            path,
            depth: path.matches('/').count(),
            kind: Kind::File,
            size,
            uid: 0,
            gid: 0,
            empty: size == 0,
            user_known: true,
            group_known: true,
        }
    }

    #[test]
    fn names_types_and_sizes_are_decided_on_the_entry() {
        let pg = file("/var/lib/postgresql/15/main/base/1/1259", 8192);
        assert!(!expr("-name *.core -exec rm {} ;").may_act_on(&pg));
        assert!(expr("-name 1259 -exec rm {} ;").may_act_on(&pg));
        assert!(!expr("-type d -delete").may_act_on(&pg));
        assert!(!expr("-size +100M -exec rm -rf {} ;").may_act_on(&pg));
        assert!(expr("-size -100M -exec rm -rf {} ;").may_act_on(&pg));
        assert!(!expr("-nouser -exec rm {} +").may_act_on(&pg));
        assert!(!expr("( -name tmp -o -name *.xx ) -atime +7 -exec rm {} ;").may_act_on(&pg));
        assert!(!expr("-iname *.MP3 -print").may_act_on(&pg));
        assert!(expr("-path */base/* -print").may_act_on(&pg));
        assert!(!expr("-maxdepth 2 -print").may_act_on(&pg));
        // Times are not decided here: they may select it.
        assert!(expr("-mtime +30 -delete").may_act_on(&pg));
        // No action: what the expression selects is printed.
        assert!(!expr("-name *.txt").may_act_on(&pg));
        assert!(expr("-type f").may_act_on(&pg));
    }

    #[test]
    fn an_action_reached_counts_whatever_the_value() {
        let pg = file("/var/lib/postgresql/15/main/PG_VERSION", 3);
        // rm runs on every entry, then -false.
        assert!(expr("-exec rm {} ; -false").may_act_on(&pg));
        // Reached when the left side fails.
        assert!(expr("-name .git -prune -o -exec rm {} ;").may_act_on(&pg));
        assert!(!expr("-name PG_VERSION -o -exec rm {} ;").may_act_on(&pg));
        assert!(expr("! -name x -delete").may_act_on(&pg));
    }

    #[test]
    fn what_cannot_be_read_is_not_read() {
        let unknown = Word {
            known: false,
            ..Word::literal("$X")
        };
        assert!(FindExpr::parse(std::slice::from_ref(&unknown)).is_none());
        assert!(FindExpr::parse(&[Word::literal("-follow")]).is_none());
        assert!(FindExpr::parse(&[Word::literal("(")]).is_none());
        assert!(FindExpr::parse(&[Word::literal("-frobnicate")]).is_none());
        // An unknown value of a test: that test may go either way.
        let e = FindExpr::parse(&[Word::literal("-name"), unknown, Word::literal("-delete")]);
        assert!(e.is_some_and(|e| e.may_act_on(&file("/x/y", 1))));
    }
}
