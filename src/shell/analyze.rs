use super::walk::{self, Frame, Out, State};
use super::{Analysis, Context, Problem};

/// Analyse one command line. Never panics; anything it cannot understand is a `Problem`.
///
/// The text is parsed with brush-parser inside bounds (length, nesting) and `catch_unwind`;
/// text it rejects is reported as `Problem::Unparseable` and scanned with a crude token
/// scanner so the invocations that looked dangerous can still be named. The whole analysis
/// has a work bound and a time bound, and runs inside `catch_unwind` too: a panic anywhere in
/// it, were one left, is an unparseable line (fail closed) that says so, not a crash.
pub fn analyze(text: &str, ctx: &Context) -> Analysis {
    let caught = std::panic::catch_unwind(|| analyze_unguarded(text, ctx));
    caught.unwrap_or_else(|_| Analysis {
        invocations: Vec::new(),
        problems: vec![Problem::Unparseable {
            reason: "the analysis failed on this text (internal error; fail closed)".to_owned(),
        }],
    })
}

fn analyze_unguarded(text: &str, ctx: &Context) -> Analysis {
    let report = shell_report(ctx);
    let mut vars = initial_vars(ctx);
    vars.extend(report.vars);
    let mut state = State {
        cwd: Some(ctx.cwd.clone()),
        home: ctx.home.clone(),
        vars,
        unexported: report.unexported,
        stdin_unknown: ctx.stdin_unknown,
        ..State::default()
    };
    let shell = ctx
        .env
        .iter()
        .find(|(k, _)| k == "PRODGUARD_SHELL")
        .map_or("bash", |(_, v)| v.as_str());
    let mut out = Out {
        deadline: std::time::Instant::now().checked_add(walk::MAX_TIME),
        shell: shell.to_owned(),
        ..Out::default()
    };
    walk::analyze_text(text, &mut state, &Frame::default(), &mut out);
    // Functions and aliases defined but not used on the line: a later line may use them, so
    // what they would run is judged now, as written.
    let defined = std::mem::take(&mut out.defined);
    for d in defined {
        if out.used.contains(&d.name) {
            continue;
        }
        let mut st = d.state;
        let frame = Frame {
            depth: d.frame.depth + 1,
            ..d.frame
        };
        walk::analyze_text(&d.body, &mut st, &frame, &mut out);
    }
    ansible_modules(&mut out, ctx);
    Analysis {
        invocations: out.invocations,
        problems: out.problems,
    }
}

/// The shell integration's report of the shell's own variables, if it sent one.
fn shell_report(ctx: &Context) -> super::shellvars::ShellVars {
    ctx.env
        .iter()
        .find(|(k, _)| k == SHELL_VARS)
        .map(|(_, v)| super::shellvars::parse(v))
        .unwrap_or_default()
}

/// Where the shell integration puts its report of the shell's variables.
const SHELL_VARS: &str = "PRODGUARD_SHELL_VARS";

/// The environment as variables already assigned, and the environment-only ones that are
/// missing as empty.
fn initial_vars(ctx: &Context) -> Vec<(String, Option<String>)> {
    let mut vars: Vec<(String, Option<String>)> = super::ENVIRONMENT_ONLY
        .iter()
        .filter(|n| !ctx.env.iter().any(|(k, _)| k == *n))
        .map(|n| ((*n).to_owned(), Some(String::new())))
        .collect();
    vars.extend(
        ctx.env
            .iter()
            .filter(|(k, _)| k != SHELL_VARS)
            .map(|(k, v)| (k.clone(), Some(v.clone()))),
    );
    vars
}

/// Judge what the Ansible modules the line runs will do: each `python3 …/AnsiballZ_*.py` run on
/// this host is read ([`super::ansible`]), named in its invocation, and the command it stands for
/// is analysed after it, reached `via` `ansible <module>`. A module file that cannot be read is an
/// unknown payload.
fn ansible_modules(out: &mut Out, ctx: &Context) {
    for i in 0..out.invocations.len() {
        let inv = &out.invocations[i];
        // A module run on another host (`ssh db2 python3 …`) is that host's to judge.
        if inv.remote_host.is_some() {
            continue;
        }
        let Some(file) = super::ansible::module_file(&inv.program, &inv.operands) else {
            continue;
        };
        let path = if file.starts_with('/') {
            file.to_owned()
        } else {
            format!("{}/{file}", ctx.cwd.trim_end_matches('/'))
        };
        match super::ansible::read(&path) {
            Ok(payload) => {
                let mut via = inv.via.clone();
                via.push(format!("ansible {}", payload.module.name));
                let frame = Frame {
                    via,
                    remote_host: None,
                    run_as: inv.run_as.clone(),
                    depth: 1,
                };
                out.invocations[i].ansible = Some(payload.module);
                if let Some(command) = payload.command {
                    let mut state = State {
                        cwd: Some(match payload.chdir {
                            Some(d) if d.starts_with('/') => d,
                            Some(d) => format!("{}/{d}", ctx.cwd.trim_end_matches('/')),
                            None => ctx.cwd.clone(),
                        }),
                        home: ctx.home.clone(),
                        vars: initial_vars(ctx),
                        stdin_unknown: false,
                        ..State::default()
                    };
                    walk::analyze_text(&command, &mut state, &frame, out);
                }
            }
            Err(reason) => out.problem(Problem::UnknownPayload {
                program: "ansible".to_owned(),
                reason,
            }),
        }
    }
}
