//! What an entry shows: values (decoded, never executed), code, outputs and facts.

use super::fixture::{self, all_previews, copy, fixtures, legacy, timeline};
use celltime_store::model::{ContentRef, History, PartKind};

/// The values printed on each `TOKENS`/`SIGNED` line of `<ws>.tokens.txt`.
fn tokens(ws: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join(format!("{ws}.tokens.txt"))).unwrap();
    let mut values = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with("==")) {
        let rest = line.split_once(' ').unwrap().1;
        let (scalars, list) = match rest.split_once('[') {
            Some((head, tail)) => (head, Some(format!("[{tail}"))),
            None => (rest, None),
        };
        values.extend(scalars.split_whitespace().map(str::to_string));
        values.extend(list);
    }
    values
}

#[test]
fn every_printed_token_is_in_the_decoded_previews() {
    for ws in ["demo", "signed", "py2"] {
        let c = copy(ws);
        let previews = all_previews(&legacy(&c.root));
        for token in tokens(ws) {
            assert!(
                previews.contains(&token),
                "{ws}: {token} not in the previews"
            );
        }
    }
}

#[test]
fn each_variable_is_its_own_part() {
    let c = copy("demo");
    let history = legacy(&c.root);
    let row = timeline(&history, "notebook")
        .rows
        .into_iter()
        .find(|r| &*r.cell == "context_block")
        .unwrap();
    let detail = history.detail("notebook", row.id).unwrap();
    let vars: Vec<&str> = detail
        .parts
        .iter()
        .filter(|p| p.kind == PartKind::Variables)
        .map(|p| p.label.as_str())
        .collect();
    let mut sorted = vars.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["math", "ns_copy", "plus_a", "plus_a_out"]);
    let part = detail
        .parts
        .iter()
        .find(|p| p.label == "plus_a_out")
        .unwrap();
    assert!(matches!(&part.content, ContentRef::File { member: Some(m), .. } if m == "plus_a_out"));
    assert_eq!(history.read("notebook", part).unwrap(), b"3\n");
    let stub = detail.parts.iter().find(|p| p.label == "plus_a").unwrap();
    let text = String::from_utf8(history.read("notebook", stub).unwrap()).unwrap();
    assert!(text.contains("def plus_a(x)"), "{text}");
}

#[test]
fn lazy_npy_and_pickle_blobs_decode() {
    for ws in ["demo", "signed", "py2"] {
        let c = copy(ws);
        let history = legacy(&c.root);
        let row = timeline(&history, "notebook")
            .rows
            .into_iter()
            .find(|r| &*r.cell == "lazy_block")
            .unwrap();
        let detail = history.detail("notebook", row.id).unwrap();
        let arr = detail.parts.iter().find(|p| p.label == "lazy_arr").unwrap();
        assert_eq!((arr.format.as_str(), arr.size), ("npy", 176));
        let bytes = history.read("notebook", arr).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let text = fixture::preview(arr, &bytes);
        assert!(
            text.contains("[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]"),
            "{text}"
        );
        let list = detail
            .parts
            .iter()
            .find(|p| p.label == "lazy_list")
            .unwrap();
        let text = fixture::preview(list, &history.read("notebook", list).unwrap());
        assert_eq!(text.trim_end(), "[1, 'two', 3.0]");
    }
}

fn fact<'a>(facts: &'a [(String, String)], label: &str) -> Vec<&'a str> {
    facts
        .iter()
        .filter(|(l, _)| l == label)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn signed_manifests_are_verified_and_unsigned_ones_say_so() {
    let c = copy("signed");
    let history = legacy(&c.root);
    let row = timeline(&history, "notebook").rows.remove(0);
    let facts = history.detail("notebook", row.id).unwrap().facts;
    let signature = fact(&facts, "signature");
    assert!(
        signature[0].starts_with("valid Ed25519 signature by SHA256:"),
        "{signature:?}"
    );
    let hashes = fact(&facts, "blob hash");
    assert_eq!(hashes.len(), 2);
    assert!(hashes.iter().all(|h| h.ends_with("sha256 matches")));

    // One changed byte in the manifest breaks the signature; one in a blob its hash.
    let cache = c.root.join("__marimo__/cache/lazy_block");
    let manifest = cache.join("C_WiErer7d8V9Iet5tC_ym1pNyk4BkEKIMjNDl-nnHVbQ.jsonl");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("\"ContentAddressed\"", "\"Pure\"");
    std::fs::write(&manifest, text).unwrap();
    let blob = cache.join("WiErer7d8V9Iet5tC_ym1pNyk4BkEKIMjNDl-nnHVbQ/lazy_list.pickle");
    let mut bytes = std::fs::read(&blob).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let history = legacy(&c.root);
    let facts = history.detail("notebook", row.id).unwrap().facts;
    assert!(
        fact(&facts, "signature")[0].starts_with("INVALID"),
        "{facts:?}"
    );
    assert_eq!(
        fact(&facts, "blob hash")
            .iter()
            .filter(|h| h.contains("DOES NOT MATCH"))
            .count(),
        1
    );

    let demo = copy("demo");
    let history = legacy(&demo.root);
    let lazy = timeline(&history, "notebook")
        .rows
        .into_iter()
        .find(|r| &*r.cell == "lazy_block")
        .unwrap();
    assert_eq!(
        fact(
            &history.detail("notebook", lazy.id).unwrap().facts,
            "signature"
        ),
        vec!["unsigned"]
    );
}

#[test]
fn json_entries_with_nan_and_infinity_decode() {
    let c = copy("demo");
    let path = c
        .root
        .join("__marimo__/cache/json_block/C_pyluuVMPYluBh0zfht18PBJrtrW0VhxBAMVSYQW0AUk.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("\"json_token\": ").unwrap() + "\"json_token\": ".len();
    let end = start + text[start..].find('\n').unwrap();
    let edited = format!("{}NaN{}", &text[..start], &text[end..])
        .replace("\"s\": \"hello\"", "\"s\": -Infinity");
    std::fs::write(&path, edited).unwrap();
    let history = legacy(&c.root);
    let id = celltime_store::legacy::scan::entry_id(
        "json_block/C_pyluuVMPYluBh0zfht18PBJrtrW0VhxBAMVSYQW0AUk.json",
    );
    let detail = history.detail("notebook", id).unwrap();
    let token = detail
        .parts
        .iter()
        .find(|p| p.label == "json_token")
        .unwrap();
    assert_eq!(history.read("notebook", token).unwrap(), b"nan\n");
    let payload = detail
        .parts
        .iter()
        .find(|p| p.label == "json_payload")
        .unwrap();
    let text = String::from_utf8(history.read("notebook", payload).unwrap()).unwrap();
    assert_eq!(text, "{'k': [1, 2, 5], 's': -inf}\n");
    assert_eq!(fact(&detail.facts, "marimo cache version"), vec!["6"]);
}

#[test]
fn whole_cell_entries_map_to_their_cells_with_code_and_outputs() {
    let c = copy("cellcache");
    let history = legacy(&c.root);
    let rows = timeline(&history, "notebook").rows;
    let cells: Vec<&str> = rows.iter().map(|r| &*r.cell).collect();
    assert_eq!(cells, vec!["Hbol", "MJUe", "vblA"]);
    let code_of = |cell: &str| {
        let row = rows.iter().find(|r| &*r.cell == cell).unwrap();
        let detail = history.detail("notebook", row.id).unwrap();
        let code = detail
            .parts
            .iter()
            .find(|p| p.kind == PartKind::Code)
            .unwrap();
        (
            String::from_utf8(history.read("notebook", code).unwrap()).unwrap(),
            detail,
        )
    };
    let (code, _) = code_of("MJUe");
    assert!(
        code.starts_with("token = random.random()\narr = np.arange(4) * 2\n"),
        "{code}"
    );
    let (code, detail) = code_of("vblA");
    assert!(code.contains("total = int(arr.sum())"));
    let html = detail
        .parts
        .iter()
        .find(|p| p.kind == PartKind::Outputs)
        .unwrap();
    assert_eq!(html.label, "text/html");
    assert_eq!(
        history.read("notebook", html).unwrap(),
        b"<pre class='text-xs'>12</pre>"
    );
    let ret = detail.parts.iter().find(|p| p.label == "return").unwrap();
    assert_eq!(history.read("notebook", ret).unwrap(), b"12\n");
    let (_, imports) = code_of("Hbol");
    let np = imports.parts.iter().find(|p| p.label == "np").unwrap();
    assert!(
        String::from_utf8(history.read("notebook", np).unwrap())
            .unwrap()
            .contains("numpy")
    );
}

#[test]
fn blocks_get_their_code_from_the_notebook_and_outputs_from_the_session() {
    for ws in ["demo", "py2"] {
        let c = copy(ws);
        let history = legacy(&c.root);
        let rows = timeline(&history, "notebook").rows;
        for block in [
            "ctx_block",
            "exec_block",
            "pure_block",
            "context_block",
            "expensive",
            "json_block",
            "lazy_block",
        ] {
            let row = rows.iter().find(|r| &*r.cell == block).unwrap();
            let detail = history.detail("notebook", row.id).unwrap();
            let code = detail
                .parts
                .iter()
                .find(|p| p.kind == PartKind::Code)
                .unwrap();
            let text = String::from_utf8(history.read("notebook", code).unwrap()).unwrap();
            assert!(
                text.contains(block) || text.contains(&format!("def {block}")),
                "{ws} {block}: {text}"
            );
        }
    }
    let c = copy("demo");
    let history = legacy(&c.root);
    let lazy = timeline(&history, "notebook")
        .rows
        .into_iter()
        .find(|r| &*r.cell == "lazy_block")
        .unwrap();
    let detail = history.detail("notebook", lazy.id).unwrap();
    let stderr = detail
        .parts
        .iter()
        .find(|p| p.kind == PartKind::Console)
        .unwrap();
    assert_eq!(stderr.label, "stderr");
    assert!(
        String::from_utf8(history.read("notebook", stderr).unwrap())
            .unwrap()
            .contains("LazyLoader verification")
    );
}

#[test]
fn parts_cannot_name_files_outside_the_listed_entries() {
    let c = copy("demo");
    let history = legacy(&c.root);
    for path in [
        "../notebook.py",
        "notebook-81b6c9e3c012558a.json",
        "/etc/passwd",
        "ctx_block",
    ] {
        let part = celltime_store::model::PartInfo {
            kind: PartKind::Variables,
            label: String::new(),
            format: "pickle".into(),
            size: 0,
            content: ContentRef::File {
                path: path.into(),
                member: None,
            },
        };
        assert!(history.read("notebook", &part).is_err(), "{path}");
    }
}

#[test]
fn pins_point_to_import() {
    let c = copy("demo");
    let history = legacy(&c.root);
    let row = timeline(&history, "notebook").rows.remove(0);
    let err = history
        .set_pinned(
            "notebook",
            &[row.id],
            true,
            &celltime_store::ops::Unrecorded,
        )
        .unwrap_err();
    assert!(err.message.contains("celltime import"), "{}", err.message);
}

#[test]
fn the_fixture_helpers_agree_on_file_counts() {
    let c = copy("demo");
    assert_eq!(
        fixture::files(&c.root).len(),
        fixture::expected("demo")["files"].as_array().unwrap().len()
    );
}

/// A cell re-run with other code leaves two whole-cell entries, both in marimo's merged
/// manifest, and a session snapshot of only the last run: neither entry may borrow its
/// outputs, and each says why.
#[test]
fn whole_cell_runs_show_only_their_own_outputs() {
    let c = copy("cellcache");
    let cache = c.root.join("__marimo__/cache");
    let stem = "C_YsfcG1tvyk6nnZBMFcCAOmM07IEqXIR9ZCbHPqb2Fjo";
    let other = "C_0therRunOfTheSameCe11WithOtherCode0000000000";
    let dir = cache.join("cell_cache");
    std::fs::copy(
        dir.join(format!("{stem}.jsonl")),
        dir.join(format!("{other}.jsonl")),
    )
    .unwrap();
    let manifest = cache.join("notebook-33f9932515c338c3.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replace(
        &format!("\"{stem}\""),
        &format!("\"{stem}\",\n        \"{other}\""),
    );
    std::fs::write(&manifest, text).unwrap();
    let history = legacy(&c.root);
    let rows: Vec<_> = timeline(&history, "notebook")
        .rows
        .into_iter()
        .filter(|r| r.parts.contains(PartKind::Variables))
        .collect();
    let mut checked = 0;
    for row in &rows {
        let detail = history.detail("notebook", row.id).unwrap();
        let note = detail.facts.iter().find(|(k, _)| k == "outputs");
        let outputs = detail.parts.iter().any(|p| p.kind == PartKind::Outputs);
        if detail
            .facts
            .iter()
            .any(|(k, v)| k == "hash" && (stem.ends_with(v) || other.ends_with(v)))
        {
            assert!(!outputs, "{:?}", detail.facts);
            assert!(
                note.is_some_and(|(_, n)| n.contains("lists 2 cached runs")),
                "{:?}",
                detail.facts
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
    // Untouched, the one listed run of each cell keeps its outputs.
    let c = copy("cellcache");
    let history = legacy(&c.root);
    let with_outputs = timeline(&history, "notebook")
        .rows
        .iter()
        .filter(|r| r.parts.contains(PartKind::Outputs))
        .count();
    assert!(with_outputs > 0);
}
