use super::walk::{self, Frame, Out, State};
use super::{Analysis, Context, Problem};

/// Analyse one command line. Never panics; anything it cannot understand is a `Problem`.
///
/// The text is parsed with brush-parser inside bounds (length, nesting) and `catch_unwind`;
/// text it rejects is reported as `Problem::Unparseable` and scanned with a crude token
/// scanner so the invocations that looked dangerous can still be named.
pub fn analyze(text: &str, ctx: &Context) -> Analysis {
    let mut state = State {
        cwd: Some(ctx.cwd.clone()),
        home: ctx.home.clone(),
        vars: initial_vars(ctx),
        stdin_unknown: ctx.stdin_unknown,
    };
    let mut out = Out::default();
    walk::analyze_text(text, &mut state, &Frame::default(), &mut out);
    ansible_modules(&mut out, ctx);
    Analysis {
        invocations: out.invocations,
        problems: out.problems,
    }
}

/// The environment as variables already assigned, and the environment-only ones that are
/// missing as empty.
fn initial_vars(ctx: &Context) -> Vec<(String, Option<String>)> {
    let mut vars: Vec<(String, Option<String>)> = super::ENVIRONMENT_ONLY
        .iter()
        .filter(|n| !ctx.env.iter().any(|(k, _)| k == *n))
        .map(|n| ((*n).to_owned(), Some(String::new())))
        .collect();
    vars.extend(ctx.env.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
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
