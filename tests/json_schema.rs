//! Every `--json` output validated against its JSON Schema in docs/schema/ (docs/JSON.md),
//! and against the family's conventions: a `schema` field, full 32-hex ids, RFC 3339 UTC
//! millisecond times under `*_at` names, integer sizes. A new document kind is one schema
//! file plus one line in [`RUNS`].

use crate::common::{celltime, demo};
use crate::legacy::fixture::copy;
use celltime::cli::json::Kind;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (workspace, the command line, the document kind it prints). `{id}` is the newest run of
/// the first cell `ls` lists, `{first}` the oldest run of that cell. Run in this order.
const RUNS: &[(Ws, &str, Kind)] = &[
    (Ws::Demo, "ls --json", Kind::Ls),
    (Ws::Demo, "ls --cells --json", Kind::LsCells),
    (Ws::Demo, "ls --notebooks --json", Kind::LsNotebooks),
    (Ws::Demo, "show {id} --json", Kind::Show),
    (Ws::Demo, "diff {id} --json", Kind::Diff),
    (Ws::Demo, "diff {first} --json", Kind::Diff),
    (
        Ws::Demo,
        "diff {id} --parts variables,outputs,console --json",
        Kind::ResultsDiff,
    ),
    (Ws::Demo, "marimo status --json", Kind::MarimoStatus),
    (
        Ws::Demo,
        "prune --keep-last 2 --max-size 1kB --dry-run --json",
        Kind::Prune,
    ),
    (Ws::Demo, "verify --json", Kind::Verify),
    (Ws::Demo, "gc --grace 0s --json", Kind::Gc),
    (Ws::Demo, "op log --json", Kind::OpLog),
    (Ws::Cache, "import --json", Kind::Import),
    (Ws::Cache, "ls --json", Kind::Ls),
    (Ws::Cache, "show {id} --json", Kind::Show),
    (Ws::Cache, "prune --keep-last 1 --yes --json", Kind::Prune),
    (Ws::Cache, "trash --json", Kind::Trash),
    (Ws::Cache, "op log --json", Kind::OpLog),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ws {
    /// The built-in demo: celltime's store with parents, pins, code versions.
    Demo,
    /// A real marimo cache folder (tests/fixtures/marimo/demo).
    Cache,
}

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/schema")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(kind: Kind) -> jsonschema::Validator {
    let common = read_json(&schema_dir().join("common.json"));
    let schema = read_json(&schema_dir().join(format!("{}.json", kind.name())));
    jsonschema::options()
        .with_resource(
            "urn:celltime:schema:common",
            jsonschema::Resource::from_contents(common),
        )
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema of {}: {e}", kind.name()))
}

fn run(dir: &Path, line: &str) -> Value {
    let out = celltime(dir)
        .args(line.split(' '))
        .output()
        .expect("celltime runs");
    // A prune whose budget cannot be met (exit 3) still prints its plan.
    let budget_not_met = line.starts_with("prune") && out.status.code() == Some(3);
    assert!(
        out.status.success() || budget_not_met,
        "celltime {line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("celltime {line} printed no JSON document ({e})"))
}

/// The family's rules, checked on every value of a document whatever its schema says.
fn conventions(path: &str, value: &Value, problems: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let at = format!("{path}.{key}");
                let id = key == "id" || key.ends_with("_id") || key == "undoes";
                let time = key.ends_with("_at") || key == "now";
                let size = key == "size"
                    || key == "bytes"
                    || key.ends_with("_bytes")
                    || key.starts_with("bytes_");
                let ok = match v {
                    Value::Null => true,
                    Value::String(s) if id => {
                        s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
                    }
                    Value::String(s) if time => {
                        chrono::DateTime::parse_from_rfc3339(s).is_ok()
                            && s.ends_with('Z')
                            && s.len() == "2026-01-01T00:00:00.000Z".len()
                    }
                    Value::Number(n) if size => n.is_u64(),
                    _ => !(id || time || size),
                };
                if !ok {
                    problems.push(format!("{at} = {v}"));
                }
                conventions(&at, v, problems);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                conventions(&format!("{path}[{i}]"), v, problems);
            }
        }
        _ => {}
    }
}

/// Validates `document` (printed by `celltime {line}`) against `kind`'s schema and the
/// conventions.
pub fn check(kind: Kind, line: &str, document: &Value) {
    assert_eq!(
        document["schema"],
        kind.name(),
        "celltime {line}: the schema field names its kind"
    );
    let errors: Vec<String> = validator(kind)
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "celltime {line} does not match {}:\n{}",
        kind.name(),
        errors.join("\n")
    );
    let mut problems = Vec::new();
    conventions("", document, &mut problems);
    assert!(
        problems.is_empty(),
        "celltime {line} breaks the JSON conventions (docs/JSON.md): {problems:?}"
    );
}

#[test]
fn every_json_output_matches_its_schema() {
    let demo_ws = demo();
    let cache_ws = copy("demo");
    for (ws, line, kind) in RUNS {
        let dir = match ws {
            Ws::Demo => demo_ws.path(),
            Ws::Cache => cache_ws.root.as_path(),
        };
        let line = if line.contains('{') {
            let (id, first) = ids(dir);
            line.replace("{id}", &id).replace("{first}", &first)
        } else {
            line.to_string()
        };
        check(*kind, &line, &run(dir, &line));
    }
}

/// The newest and the oldest run of the first cell `ls` lists, as the workspace is now.
fn ids(dir: &Path) -> (String, String) {
    let listing = run(dir, "ls --json");
    let entries = listing["entries"].as_array().expect("entries");
    let cell = (&entries[0]["notebook"], &entries[0]["cell"]);
    let of_cell: Vec<&Value> = entries
        .iter()
        .filter(|e| (&e["notebook"], &e["cell"]) == cell)
        .collect();
    let id = |e: &Value| e["id"].as_str().unwrap().to_string();
    (id(of_cell[0]), id(of_cell[of_cell.len() - 1]))
}

#[test]
fn every_kind_has_a_schema_file_and_a_run() {
    let files: BTreeSet<String> = std::fs::read_dir(schema_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "common.json")
        .collect();
    let kinds: BTreeSet<String> = Kind::ALL
        .iter()
        .map(|k| format!("{}.json", k.name()))
        .collect();
    assert_eq!(
        files, kinds,
        "docs/schema/ holds one file per document kind"
    );
    for kind in Kind::ALL {
        assert!(
            RUNS.iter().any(|(_, _, k)| *k == kind),
            "no test run prints {}",
            kind.name()
        );
    }
}

/// Every command with a `--json` flag is among the runs (its words before the first flag).
#[test]
fn every_command_with_json_output_is_validated() {
    use clap::CommandFactory;
    fn walk(command: &clap::Command, path: Vec<String>, out: &mut Vec<String>) {
        if command.get_arguments().any(|a| a.get_id() == "json") {
            out.push(path.join(" "));
        }
        for sub in command.get_subcommands() {
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            walk(sub, next, out);
        }
    }
    let mut with_json = Vec::new();
    walk(&celltime::cli::Cli::command(), Vec::new(), &mut with_json);
    assert!(with_json.len() >= 9, "{with_json:?}");
    for command in with_json {
        assert!(
            RUNS.iter()
                .any(|(_, line, _)| line.starts_with(&format!("{command} "))),
            "`celltime {command} --json` is not validated against a schema"
        );
    }
}

#[test]
fn the_schemas_are_valid_json_schema() {
    for kind in Kind::ALL {
        let schema = read_json(&schema_dir().join(format!("{}.json", kind.name())));
        assert!(
            jsonschema::meta::is_valid(&schema),
            "{} is not a valid JSON Schema",
            kind.name()
        );
        assert_eq!(schema["properties"]["schema"]["const"], kind.name());
    }
}
