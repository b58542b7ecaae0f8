//! The `[prune]` table of `persist.toml`: the flag names as keys, the flag grammar as values.

use toml_edit::{Item, Table, Value};

use super::rules::{Policy, PolicyError};
use crate::units::{self, Count, ValueError, size_from_toml, span_from_toml, toml_kind};

const KEYS: &str = "notebook, cell, group-by, keep-last, keep-within, keep-daily, keep-weekly, \
                    keep-monthly, keep-versions, max-age, max-size, max-entries, unsafe-allow-remove-all";

impl Policy {
    /// Reads a `[prune]` table such as `keep-last = 3`, `keep-within = "30d"`,
    /// `max-size = "5GiB"`, `notebook = ["analysis/*"]`. Errors name the key.
    pub fn from_toml(table: &Table) -> Result<Policy, PolicyError> {
        let mut policy = Policy::default();
        for (key, item) in table.iter() {
            let fail = |message: String| PolicyError::Config {
                key: key.to_string(),
                message,
            };
            let value = match item {
                Item::Value(v) => v,
                _ => return Err(fail("expected a value, found a table".to_string())),
            };
            let bad = |e: ValueError| fail(e.to_string());
            match key {
                "notebook" => policy.notebook = strings(value).map_err(fail)?,
                "cell" => policy.cell = strings(value).map_err(fail)?,
                "group-by" => {
                    policy.group_by = text(value, "a string")
                        .map_err(fail)?
                        .parse()
                        .map_err(bad)?
                }
                "keep-last" => policy.keep_last = Some(count(value).map_err(fail)?),
                "keep-daily" => policy.keep_daily = Some(count(value).map_err(fail)?),
                "keep-weekly" => policy.keep_weekly = Some(count(value).map_err(fail)?),
                "keep-monthly" => policy.keep_monthly = Some(count(value).map_err(fail)?),
                "keep-versions" => policy.keep_versions = Some(number(value).map_err(fail)?),
                "max-entries" => policy.max_entries = Some(number(value).map_err(fail)?),
                "keep-within" => policy.keep_within = Some(span_from_toml(value).map_err(fail)?),
                "max-age" => policy.max_age = Some(span_from_toml(value).map_err(fail)?),
                "max-size" => policy.max_size = Some(size_from_toml(value).map_err(fail)?),
                "unsafe-allow-remove-all" => {
                    policy.unsafe_allow_remove_all = value.as_bool().ok_or_else(|| {
                        fail(format!(
                            "expected true or false, found {}",
                            toml_kind(value)
                        ))
                    })?;
                }
                _ => return Err(fail(format!("unknown key; valid keys are {KEYS}"))),
            }
        }
        policy.normalised()
    }
}

impl Policy {
    /// Writes this policy's rules into a `[prune]` table, replacing the rules it held and
    /// keeping everything else (comments, unknown keys' neighbours, layout) as it was.
    pub fn write_toml(&self, table: &mut Table) {
        let known: Vec<&str> = KEYS.split(", ").collect();
        table.retain(|key, _| !known.contains(&key));
        let mut set = |key: &str, value: Value| {
            table.insert(key, Item::Value(value));
        };
        let array = |items: &[String]| Value::Array(items.iter().map(String::as_str).collect());
        let count = |c: Count| match c {
            Count::N(n) => Value::from(i64::from(n)),
            Count::All => Value::from("all"),
        };
        if !self.notebook.is_empty() {
            set("notebook", array(&self.notebook));
        }
        if !self.cell.is_empty() {
            set("cell", array(&self.cell));
        }
        if self.group_by != Default::default() {
            set("group-by", Value::from(self.group_by.to_string()));
        }
        let counts = [
            ("keep-last", self.keep_last),
            ("keep-daily", self.keep_daily),
            ("keep-weekly", self.keep_weekly),
            ("keep-monthly", self.keep_monthly),
        ];
        for (key, value) in counts {
            if let Some(c) = value {
                set(key, count(c));
            }
        }
        if let Some(span) = self.keep_within {
            set("keep-within", Value::from(span.to_string()));
        }
        if let Some(n) = self.keep_versions {
            set("keep-versions", Value::from(i64::from(n)));
        }
        if let Some(span) = self.max_age {
            set("max-age", Value::from(span.to_string()));
        }
        if let Some(size) = self.max_size {
            set("max-size", Value::from(size.to_string()));
        }
        if let Some(n) = self.max_entries {
            set("max-entries", Value::from(i64::from(n)));
        }
        if self.unsafe_allow_remove_all {
            set("unsafe-allow-remove-all", Value::from(true));
        }
    }
}

fn text<'v>(value: &'v Value, expected: &str) -> Result<&'v str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected {expected}, found {}", toml_kind(value)))
}

/// One pattern or a list of them, each non-empty.
fn strings(value: &Value) -> Result<Vec<String>, String> {
    let items: Vec<&Value> = match value {
        Value::Array(array) => array.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .map(|v| match text(v, "a string or an array of strings")? {
            "" => Err("empty pattern".to_string()),
            s => Ok(s.to_string()),
        })
        .collect()
}

/// Integers go through the same text parser as flags, so `-1` gets the same message.
fn count(value: &Value) -> Result<Count, String> {
    match value {
        Value::Integer(i) => i.value().to_string().parse(),
        Value::String(s) => s.value().parse(),
        other => {
            return Err(format!(
                "expected an integer or \"all\", found {}",
                toml_kind(other)
            ));
        }
    }
    .map_err(|e: ValueError| e.to_string())
}

fn number(value: &Value) -> Result<u32, String> {
    match value {
        Value::Integer(i) => units::parse_number(&i.value().to_string()).map_err(|e| e.to_string()),
        other => Err(format!("expected an integer, found {}", toml_kind(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_keeps_comments_and_round_trips() {
        let text = "# why we keep what we keep\n[prune]\n# a note on the old rule\nkeep-last = 9\n";
        let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
        let policy = Policy {
            notebook: vec!["a/*".into()],
            keep_last: Some(Count::N(3)),
            keep_within: Some("30d".parse().unwrap()),
            max_size: Some("5GiB".parse().unwrap()),
            ..Policy::default()
        }
        .normalised()
        .unwrap();
        policy.write_toml(doc["prune"].as_table_mut().unwrap());
        let written = doc.to_string();
        assert!(
            written.starts_with("# why we keep what we keep\n[prune]\n"),
            "{written}"
        );
        assert!(written.contains("keep-last = 3"), "{written}");
        let reread: toml_edit::DocumentMut = written.parse().unwrap();
        assert_eq!(
            Policy::from_toml(reread["prune"].as_table().unwrap()).unwrap(),
            policy
        );
    }
}
