//! `prodguard policy schema`: the JSON Schema (draft 2020-12) of a pack, for editors (Taplo,
//! Even Better TOML, VS Code) and CI. It mirrors `raw.rs`; a test checks that every field serde
//! accepts is in the schema and the other way round, and that every default pack validates.

use serde_json::{json, Value};

/// The schema.
pub fn schema() -> Value {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let name_or_id = json!({
        "type": "array",
        "items": { "type": ["string", "integer"], "minimum": 0 },
        "description": "Names (`*`/`?` globs) or numeric ids; `!` before a name excludes it."
    });
    let ssh = json!({
        "type": "array",
        "items": { "type": "string" },
        "description": "`local` (not an SSH session), an address, or a network such as `10.0.0.0/8`; `!` excludes."
    });
    let time = json!({
        "type": "array",
        "items": { "type": "string" },
        "description": "`Fri 16:00 - Mon 08:00` (weekly), `Mon-Fri 22:00-06:00` or `12:00-13:00` (daily), `freeze` (any freeze) or `freeze:NAME`, in the host's time zone."
    });
    let when = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Where, for whom and when the rule applies; every key given must hold. Unknown facts hold.",
        "properties": {
            "env": strings,
            "role": strings,
            "host": strings,
            "user": { "$ref": "#/$defs/nameOrId" },
            "group": { "$ref": "#/$defs/nameOrId" },
            "tty": { "type": "boolean", "description": "true: at a terminal; false: batch, cron, `ssh host cmd`." },
            "ssh": { "$ref": "#/$defs/ssh" },
            "time": { "$ref": "#/$defs/time" }
        }
    });
    let action = json!({ "enum": ["allow", "warn", "confirm", "approve", "deny"] });
    let matcher = json!({
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "properties": {
            "program": strings,
            "subcommand": strings,
            "flags": strings,
            "not_flags": strings,
            "args": strings,
            "not_args": strings,
            "target": strings,
            "redirect": strings,
            "redirect_append": strings,
            "sql": { "type": "array", "items": { "enum": crate::sql::statement_kinds() } },
            "sql_function": strings,
            "other_host": { "type": "boolean" },
            "via": strings,
            "remote": { "type": "boolean" },
            "dynamic": { "type": "boolean" },
            "raw": { "type": "string" }
        }
    });
    let rule = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "action", "match", "message"],
        "properties": {
            "id": { "type": "string", "pattern": "^\\S+$" },
            "severity": { "enum": ["info", "warning", "high", "critical"] },
            "action": { "$ref": "#/$defs/action" },
            "confirm": { "enum": ["hostname", "target", "phrase", "ticket", "yes"] },
            "approvers": { "type": "integer", "minimum": 1 },
            "when": { "$ref": "#/$defs/when" },
            "match": { "$ref": "#/$defs/match" },
            "escalate": {
                "type": "array",
                "description": "Raise the action one step (or to `to`) while `when` holds.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["when"],
                    "properties": {
                        "when": { "$ref": "#/$defs/when" },
                        "to": { "$ref": "#/$defs/action" },
                        "reason": { "type": "string" }
                    }
                }
            },
            "exempt": {
                "type": "array",
                "description": "Users or groups this rule lets through (as `allow`), when every condition is known to hold.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["reason"],
                    "anyOf": [{ "required": ["user"] }, { "required": ["group"] }],
                    "properties": {
                        "user": { "$ref": "#/$defs/nameOrId" },
                        "group": { "$ref": "#/$defs/nameOrId" },
                        "tty": { "type": "boolean" },
                        "ssh": { "$ref": "#/$defs/ssh" },
                        "time": { "$ref": "#/$defs/time" },
                        "reason": { "type": "string", "minLength": 1 }
                    }
                }
            },
            "require": {
                "type": "array",
                "description": "Preconditions checked before the question: a fresh backup, a probe command, a flag file.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["kind"],
                    "properties": {
                        "kind": { "enum": ["backup", "command", "file"] },
                        "path": { "type": "string", "description": "backup: an absolute glob; file: an absolute path." },
                        "max_age": { "type": "string", "description": "backup: e.g. `24h`, `1h30m`." },
                        "min_size": { "type": "string", "description": "backup: e.g. `1MB`, `512KiB`." },
                        "argv": { "type": "array", "items": { "type": "string" }, "minItems": 1, "description": "command: run without a shell; `{file}` is the newest backup." },
                        "timeout": { "type": "string", "description": "At most 5m; default 10s." },
                        "exists": { "type": "boolean", "description": "file: whether the file must exist (default true)." }
                    }
                }
            },
            "unmet": { "enum": ["raise", "deny"], "description": "What an unmet precondition does: raise the action one step (default) or deny." },
            "message": { "type": "string" },
            "why": { "type": "string" },
            "instead": { "type": "string" },
            "tests": {
                "type": "object",
                "additionalProperties": false,
                "properties": { "match": strings, "ignore": strings }
            }
        }
    });
    let date = "^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2})?)?$";
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:prodguard:policy-pack",
        "title": "prodguard policy pack",
        "description": "A pack of [[rule]] tables (see docs/policy-reference.md).",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "pack": {
                "type": "object",
                "additionalProperties": false,
                "properties": { "name": { "type": "string" }, "description": { "type": "string" } }
            },
            "disable": strings,
            "freeze": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "from", "to"],
                    "properties": {
                        "name": { "type": "string", "pattern": "^\\S+$" },
                        "from": { "type": "string", "pattern": date },
                        "to": { "type": "string", "pattern": date, "description": "Inclusive: a bare date means the end of that day." },
                        "reason": { "type": "string" }
                    }
                }
            },
            "rule": { "type": "array", "items": { "$ref": "#/$defs/rule" } }
        },
        "$defs": {
            "action": action,
            "when": when,
            "match": matcher,
            "rule": rule,
            "nameOrId": name_or_id,
            "ssh": ssh,
            "time": time
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::diag::unknown_and_expected;
    use crate::policy::raw::RawPack;

    /// The fields serde accepts at the place `doc` puts an unknown key.
    fn serde_fields(doc: &str) -> Vec<String> {
        let err = toml::from_str::<RawPack>(doc).expect_err("unknown key");
        let (word, mut expected) = unknown_and_expected(err.message()).expect("unknown field");
        assert_eq!(word, "zzz");
        expected.sort();
        expected
    }

    fn schema_fields(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }

    #[test]
    fn schema_and_serde_accept_the_same_keys() {
        let s = schema();
        let d = &s["$defs"];
        let rule = &d["rule"]["properties"];
        for (doc, node) in [
            ("zzz = 1", &s),
            ("[pack]\nzzz = 1", &s["properties"]["pack"]),
            ("[[freeze]]\nzzz = 1", &s["properties"]["freeze"]["items"]),
            ("[[rule]]\nzzz = 1", &d["rule"]),
            ("[[rule]]\nwhen = { zzz = 1 }", &d["when"]),
            ("[[rule]]\nmatch = { zzz = 1 }", &d["match"]),
            ("[[rule]]\ntests = { zzz = 1 }", &rule["tests"]),
            (
                "[[rule]]\nescalate = [{ zzz = 1 }]",
                &rule["escalate"]["items"],
            ),
            ("[[rule]]\nexempt = [{ zzz = 1 }]", &rule["exempt"]["items"]),
            (
                "[[rule]]\nrequire = [{ zzz = 1 }]",
                &rule["require"]["items"],
            ),
        ] {
            assert_eq!(serde_fields(doc), schema_fields(node), "{doc}");
        }
    }
}
