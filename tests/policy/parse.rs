//! Every refusal of the policy grammar, through each way in: the value parsers, the policy
//! text (clap) and the `[prune]` table. Messages are asserted whole: they are the UX.

use celltime::cli::policy_args::PolicyArgs;
use celltime::cli::policy_args::{policy_from_args, policy_from_text};
use celltime_store::policy::{Count, GroupBy, Policy, PolicyError, Size, Span, ValueError};
use clap::{CommandFactory, Parser};

fn text_err(text: &str) -> String {
    match policy_from_text(text) {
        Ok(p) => panic!("{text:?} parsed as {p:?}"),
        Err(e) => {
            assert!(e.is_usage(), "{text}: {e}");
            e.to_string()
        }
    }
}

fn toml_err(doc: &str) -> String {
    let doc: toml_edit::DocumentMut = doc.parse().expect("valid TOML");
    let table = doc["prune"].as_table().expect("[prune] table");
    match Policy::from_toml(table) {
        Ok(p) => panic!("{doc} parsed as {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn toml_ok(doc: &str) -> Policy {
    let doc: toml_edit::DocumentMut = doc.parse().expect("valid TOML");
    Policy::from_toml(doc["prune"].as_table().expect("[prune] table")).expect("valid policy")
}

#[test]
fn bare_m_is_ambiguous() {
    let err = "7m".parse::<Span>().unwrap_err();
    assert_eq!(err, ValueError::AmbiguousMinute);
    assert_eq!(err.to_string(), "ambiguous unit 'm': use 'min' or 'mo'");
    assert_eq!(
        text_err("--max-age 1y6m"),
        "invalid value '1y6m' for '--max-age <DURATION>': ambiguous unit 'm': use 'min' or 'mo'"
    );
    assert_eq!(
        toml_err("[prune]\nkeep-within = \"5m\""),
        "[prune] keep-within: ambiguous unit 'm': use 'min' or 'mo'"
    );
}

#[test]
fn unknown_duration_unit_lists_valid_units() {
    assert_eq!(
        "3x".parse::<Span>().unwrap_err().to_string(),
        "unknown unit 'x' in '3x': valid units are s, min, h, d, w, mo, y"
    );
    // Units are case-sensitive: "D" is not "d".
    assert_eq!(
        text_err("--keep-within 7D"),
        "invalid value '7D' for '--keep-within <DURATION>': unknown unit 'D' in '7D': valid units are s, min, h, d, w, mo, y"
    );
    assert_eq!(
        "30".parse::<Span>().unwrap_err().to_string(),
        "'30' has no unit: valid units are s, min, h, d, w, mo, y (e.g. 7d, 36h, 1y6mo)"
    );
    assert_eq!(
        "1.5d".parse::<Span>().unwrap_err().to_string(),
        "'1.5d' is not valid: expected whole numbers each followed by a unit, e.g. 7d, 36h, 1y6mo"
    );
    assert_eq!(
        "".parse::<Span>().unwrap_err().to_string(),
        "empty value: expected a duration, e.g. 7d, 36h, 1y6mo"
    );
    assert_eq!(
        "99999999999d".parse::<Span>().unwrap_err().to_string(),
        "'99999999999d' is too large"
    );
}

#[test]
fn unknown_and_ambiguous_size_units() {
    assert_eq!(
        "5XB".parse::<Size>().unwrap_err().to_string(),
        "unknown unit 'XB' in '5XB': valid units are B, kB, MB, GB, TB, KiB, MiB, GiB, TiB"
    );
    assert_eq!(
        text_err("--max-size 5G"),
        "invalid value '5G' for '--max-size <SIZE>': ambiguous unit 'G': use 'GB' (powers of 1000) or 'GiB' (powers of 1024)"
    );
    assert_eq!(
        "5KB".parse::<Size>().unwrap_err().to_string(),
        "ambiguous unit 'KB': use 'kB' (powers of 1000) or 'KiB' (powers of 1024)"
    );
    assert_eq!(
        "1.5".parse::<Size>().unwrap_err().to_string(),
        "'1.5' is not valid: expected a number and a unit (e.g. 5GiB, 1.5GB) or a whole number of bytes"
    );
    assert_eq!(
        "99999999999TiB".parse::<Size>().unwrap_err().to_string(),
        "'99999999999TiB' is too large"
    );
}

#[test]
fn negative_values_are_refused_with_all_where_all_is_valid() {
    assert_eq!(
        text_err("--keep-last -1"),
        "invalid value '-1' for '--keep-last <N|all>': negative values are not allowed, use 'all' instead"
    );
    assert_eq!(
        text_err("--keep-monthly -3"),
        "invalid value '-3' for '--keep-monthly <N|all>': negative values are not allowed, use 'all' instead"
    );
    assert_eq!(
        text_err("--max-entries -3"),
        "invalid value '-3' for '--max-entries <N>': negative values are not allowed"
    );
    assert_eq!(
        text_err("--max-size -5GiB"),
        "invalid value '-5GiB' for '--max-size <SIZE>': negative values are not allowed"
    );
    assert_eq!(
        text_err("--max-age -7d"),
        "invalid value '-7d' for '--max-age <DURATION>': negative values are not allowed"
    );
    assert_eq!(
        toml_err("[prune]\nkeep-daily = -1"),
        "[prune] keep-daily: negative values are not allowed, use 'all' instead"
    );
    assert_eq!(
        toml_err("[prune]\nkeep-versions = -2"),
        "[prune] keep-versions: negative values are not allowed"
    );
    assert_eq!(
        "-1".parse::<Count>().unwrap_err(),
        ValueError::Negative { all_allowed: true }
    );
}

#[test]
fn a_missing_value_is_not_called_negative() {
    assert_eq!(
        text_err("--keep-last --unsafe-allow-remove-all --cell x"),
        "invalid value '--unsafe-allow-remove-all' for '--keep-last <N|all>': missing value before '--unsafe-allow-remove-all'"
    );
    assert_eq!(
        text_err("--keep-daily 3 --keep-last"),
        "a value is required for '--keep-last <N|all>' but none was supplied"
    );
}

#[test]
fn empty_policy_is_refused() {
    let expected = "no policy given; nothing removed";
    assert_eq!(text_err(""), expected);
    assert_eq!(
        text_err("--notebook 'analysis/*' --group-by none"),
        expected
    );
    // As in restic, a zero count is no rule.
    assert_eq!(text_err("--keep-last 0 --keep-within 0d"), expected);
    assert_eq!(toml_err("[prune]\nnotebook = [\"a/*\"]"), expected);
    assert_eq!(
        policy_from_args(&PolicyArgs::default()),
        Err(PolicyError::Empty)
    );
    // A hand-built policy is checked again by the planner.
    let input = celltime_store::policy::PlanInput {
        entries: &[],
        content_sizes: &[],
    };
    let now = chrono::Utc::now();
    assert_eq!(
        celltime_store::policy::plan(&input, &Policy::default(), now, &chrono::Utc),
        Err(PolicyError::Empty)
    );
}

#[test]
fn unsafe_flag_needs_a_scope_filter() {
    let expected = "--unsafe-allow-remove-all is refused without a scope filter: add --notebook GLOB or --cell NAME";
    assert_eq!(
        text_err("--unsafe-allow-remove-all --max-entries 0"),
        expected
    );
    assert_eq!(
        text_err("--unsafe-allow-remove-all --group-by none --keep-last 1"),
        expected
    );
    assert_eq!(
        toml_err("[prune]\nunsafe-allow-remove-all = true\nkeep-last = 1"),
        expected
    );
    assert!(policy_from_text("--unsafe-allow-remove-all --cell scratch --max-entries 0").is_ok());
    assert!(policy_from_text("--unsafe-allow-remove-all --notebook 'old/*' --keep-last 1").is_ok());
}

#[test]
fn other_usage_errors() {
    assert_eq!(
        text_err("--keep-last 3 --notebook 'open"),
        "unclosed quote ' in policy text"
    );
    assert_eq!(
        text_err("--keep-lats 3"),
        "unexpected argument '--keep-lats' found"
    );
    assert_eq!(
        text_err("--keep-last 3 --keep-last 4"),
        "the argument '--keep-last <N|all>' cannot be used multiple times"
    );
    assert_eq!(
        text_err("--keep-versions all"),
        "invalid value 'all' for '--keep-versions <N>': 'all' is not valid: expected a whole number"
    );
    assert_eq!(
        text_err("--group-by cell --keep-last 1"),
        "invalid value 'cell' for '--group-by <notebook,cell|notebook|none>': 'cell' is not valid: expected notebook,cell | notebook | none"
    );
    assert_eq!(
        text_err("--cell '' --keep-last 1"),
        "a value is required for '--cell <NAME>' but none was supplied"
    );
}

#[test]
fn toml_errors_name_the_key() {
    assert_eq!(
        toml_err("[prune]\nkeep-lats = 3"),
        "[prune] keep-lats: unknown key; valid keys are notebook, cell, group-by, keep-last, keep-within, keep-daily, keep-weekly, keep-monthly, keep-versions, max-age, max-size, max-entries, unsafe-allow-remove-all"
    );
    assert_eq!(
        toml_err("[prune]\nkeep-within = 30"),
        "[prune] keep-within: expected a string such as \"30d\", found an integer"
    );
    assert_eq!(
        toml_err("[prune]\nkeep-last = 2.5"),
        "[prune] keep-last: expected an integer or \"all\", found a float"
    );
    assert_eq!(
        toml_err("[prune]\nmax-size = \"5G\""),
        "[prune] max-size: ambiguous unit 'G': use 'GB' (powers of 1000) or 'GiB' (powers of 1024)"
    );
    assert_eq!(
        toml_err("[prune]\nnotebook = [\"a/*\", 3]\nkeep-last = 1"),
        "[prune] notebook: expected a string or an array of strings, found an integer"
    );
    assert_eq!(
        toml_err("[prune]\ncell = \"\"\nkeep-last = 1"),
        "[prune] cell: empty pattern"
    );
    assert_eq!(
        toml_err("[prune]\nunsafe-allow-remove-all = \"yes\""),
        "[prune] unsafe-allow-remove-all: expected true or false, found a string"
    );
    assert_eq!(
        toml_err("[prune]\nkeep-last = 1\n[prune.extra]\nx = 1"),
        "[prune] extra: expected a value, found a table"
    );
}

#[test]
fn three_ways_in_agree() {
    let text = policy_from_text(
        "--notebook 'analysis/*' --notebook reports/summary --cell fit --group-by notebook \
         --keep-last all --keep-within 1y6mo --keep-daily 7 --keep-weekly 4 --keep-monthly 12 \
         --keep-versions 3 --max-age 90d --max-size 1.5GiB --max-entries 500",
    )
    .expect("valid");
    let toml = toml_ok(
        r#"
        [prune]
        # comments survive in persist.toml; the planner ignores them
        notebook = ["reports/summary", "analysis/*"]
        cell = "fit"
        group-by = "notebook"
        keep-last = "all"
        keep-within = "6mo1y"
        keep-daily = 7
        keep-weekly = 4
        keep-monthly = 12
        keep-versions = 3
        max-age = "90d"
        max-size = "1536MiB"
        max-entries = 500
        "#,
    );
    assert_eq!(text, toml);
    assert_eq!(text.group_by, GroupBy::Notebook);
    assert_eq!(
        text.keep_within.map(|s| s.to_string()).as_deref(),
        Some("1y6mo")
    );
    assert_eq!(text.max_size, Some(Size(1_610_612_736)));
    assert_eq!(
        text.to_text(),
        "--notebook analysis/* --notebook reports/summary --cell fit --group-by notebook \
         --keep-last all --keep-within 1y6mo --keep-daily 7 --keep-weekly 4 --keep-monthly 12 \
         --keep-versions 3 --max-age 90d --max-size 1.5GiB --max-entries 500"
    );
    assert_eq!(policy_from_text(&text.to_text()), Ok(text.clone()));

    // The CLI flattens the same Args.
    #[derive(Parser)]
    struct Prune {
        #[command(flatten)]
        policy: PolicyArgs,
        #[arg(long)]
        dry_run: bool,
    }
    Prune::command().debug_assert();
    let cli = Prune::try_parse_from(
        ["prune", "--dry-run"]
            .into_iter()
            .chain(text.to_text().split(' ')),
    )
    .expect("CLI parses");
    assert!(cli.dry_run);
    assert_eq!(policy_from_args(&cli.policy), Ok(text));
}

#[test]
fn values_normalise() {
    let cases = [
        ("36h", "36h"),
        ("12h1d", "1d12h"),
        ("1d1d", "2d"),
        ("90min30s", "90min30s"),
        ("2w", "2w"),
    ];
    for (input, normal) in cases {
        assert_eq!(input.parse::<Span>().expect(input).to_string(), normal);
    }
    let sizes = [
        ("5GiB", 5 << 30, "5GiB"),
        ("1.5GiB", 1_610_612_736, "1.5GiB"),
        ("500MB", 500_000_000, "500MB"),
        ("1234", 1234, "1234B"),
        ("0", 0, "0B"),
        ("2.25GiB", 2_415_919_104, "2.25GiB"),
        ("0.5kB", 500, "500B"),
        ("1.0000001kB", 1000, "1kB"),
        ("3TB", 3_000_000_000_000, "3TB"),
        ("1 MiB", 1 << 20, "1MiB"),
    ];
    for (input, bytes, normal) in sizes {
        let size: Size = input.parse().expect(input);
        assert_eq!(size, Size(bytes), "{input}");
        assert_eq!(size.to_string(), normal, "{input}");
    }
}
