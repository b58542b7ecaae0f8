//! Remove, prune, undo and empty the trash: byte-for-byte, and nothing else touched.

use super::fixture::{batch_of, copy, legacy, remove, timeline, tree, undo};
use celltime::cli::policy_args::policy_from_text;
use celltime_store::legacy::trash;
use celltime_store::model::History;
use celltime_store::policy::{Candidate, PlanInput, plan};
use chrono::Utc;

const TRASH: &str = "__marimo__/cache/.celltime-trash/";

#[test]
fn remove_moves_whole_entries_to_the_trash_and_undo_restores_them_exactly() {
    let c = copy("demo");
    let before = tree(&c.root);
    let history = legacy(&c.root);
    let rows = timeline(&history, "notebook").rows;
    let lazy = rows.iter().find(|r| &*r.cell == "lazy_block").unwrap();
    let pickle = rows.iter().find(|r| &*r.cell == "pure_block").unwrap();
    let (applied, op) = remove(&history, &c.root, &[lazy.id, pickle.id]);
    assert_eq!(applied.removed, 2);
    assert_eq!(applied.bytes, lazy.size + pickle.size);
    assert!(applied.failures.is_empty());

    let after = tree(&c.root);
    let batch = &batch_of(&c.root, &op);
    let batch_rel = batch
        .strip_prefix(&c.root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let moved: Vec<&String> = before.keys().filter(|p| !after.contains_key(*p)).collect();
    assert_eq!(moved.len(), 4, "manifest, two blobs, one pickle: {moved:?}");
    for path in &moved {
        let in_trash = format!(
            "{batch_rel}/{}",
            path.strip_prefix("__marimo__/cache/").unwrap()
        );
        assert_eq!(after[&in_trash], before[*path], "{path} moved unchanged");
    }
    for (path, value) in &after {
        if !path.starts_with(TRASH) {
            assert_eq!(before.get(path), Some(value), "{path} untouched");
        }
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(batch.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["entries"].as_array().unwrap().len(), 2);
    assert_eq!(timeline(&history, "notebook").rows.len(), 10);

    assert_eq!(undo(&history, &c.root, &op).restored, 2);
    assert_eq!(tree(&c.root), before, "undo restores every byte and time");
    assert!(!c.root.join(TRASH).exists());
    assert_eq!(timeline(&history, "notebook").rows.len(), 12);
}

#[test]
fn an_entry_changed_since_listing_is_not_removed() {
    let c = copy("demo");
    let history = legacy(&c.root);
    let row = timeline(&history, "notebook")
        .rows
        .into_iter()
        .find(|r| &*r.cell == "pure_block")
        .unwrap();
    let loaded = history.load().unwrap();
    let entry = loaded.find(row.id).unwrap().0.clone();
    std::fs::write(
        c.root.join("__marimo__/cache").join(&entry.rel_path),
        b"rewritten",
    )
    .unwrap();
    let outcome = trash::move_to_trash(history.root(), "batch", &[&entry]).unwrap();
    assert_eq!(outcome.moved, 0);
    assert!(
        outcome.failures[0].contains("changed since it was listed"),
        "{:?}",
        outcome.failures
    );
    assert!(
        c.root
            .join("__marimo__/cache")
            .join(&entry.rel_path)
            .exists()
    );
    assert!(!c.root.join(TRASH).exists());
}

#[test]
fn prune_plans_on_legacy_rows_and_applies_through_the_trash() {
    let c = copy("demo");
    let before = tree(&c.root);
    let history = legacy(&c.root);
    let timeline = timeline(&history, "notebook");
    let candidates: Vec<Candidate> = timeline
        .rows
        .iter()
        .map(|r| Candidate {
            notebook: "notebook",
            cell: &r.cell,
            module: &r.module,
            version: &r.version,
            created_at: r.created_at.to_datetime(),
            last_used: r.created_at.to_datetime(),
            pinned: r.pinned,
            contents: &r.contents,
        })
        .collect();
    let input = PlanInput {
        entries: &candidates,
        content_sizes: &timeline.content_sizes,
    };
    let policy = policy_from_text("--keep-last 1").unwrap();
    let planned = plan(&input, &policy, Utc::now(), &Utc).unwrap();
    let ids: Vec<_> = planned
        .removed()
        .iter()
        .map(|&i| timeline.rows[i].id)
        .collect();
    // ctx_block, exec_block, json_block have two entries, expensive three: five go.
    assert_eq!(ids.len(), 5);
    let (applied, op) = remove(&history, &c.root, &ids);
    assert_eq!(applied.removed, 5);
    let cells: Vec<String> = timeline_cells(&history);
    assert_eq!(
        cells,
        vec![
            "context_block",
            "ctx_block",
            "exec_block",
            "expensive",
            "json_block",
            "lazy_block",
            "pure_block"
        ]
    );
    undo(&history, &c.root, &op);
    assert_eq!(tree(&c.root), before);
}

fn timeline_cells(history: &dyn History) -> Vec<String> {
    history
        .timeline("notebook")
        .unwrap()
        .rows
        .iter()
        .map(|r| r.cell.to_string())
        .collect()
}

#[test]
fn empty_trash_deletes_batches_and_nothing_else() {
    let c = copy("demo");
    let history = legacy(&c.root);
    let rows = timeline(&history, "notebook").rows;
    remove(&history, &c.root, &[rows[0].id]);
    remove(&history, &c.root, &[rows[1].id]);
    let before: Vec<_> = tree(&c.root)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(TRASH))
        .collect();
    assert_eq!(trash::batches(history.root()).unwrap().len(), 2);
    assert_eq!(history.empty_trash().unwrap(), 2);
    assert!(!c.root.join(TRASH).exists());
    assert_eq!(tree(&c.root).into_iter().collect::<Vec<_>>(), before);
    assert_eq!(timeline(&history, "notebook").rows.len(), 10);
}

#[test]
fn undo_leaves_an_entry_marimo_wrote_again_in_the_trash() {
    let c = copy("demo");
    let history = legacy(&c.root);
    let row = timeline(&history, "notebook")
        .rows
        .into_iter()
        .find(|r| &*r.cell == "pure_block")
        .unwrap();
    let (_, op) = remove(&history, &c.root, &[row.id]);
    let path = c
        .root
        .join("__marimo__/cache/pure_block/P_TLCXXznqVSvkMXatdzO3gS8ANq5gjGF-fyjDgOvKHj8.pickle");
    std::fs::write(&path, b"new").unwrap();
    let done = undo(&history, &c.root, &op);
    assert!(
        done.failures[0].contains("marimo wrote this entry again"),
        "{:?}",
        done.failures
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
    assert_eq!(trash::batches(history.root()).unwrap().len(), 1);
}

#[test]
fn a_damaged_batch_manifest_cannot_move_files_from_elsewhere() {
    let c = copy("demo");
    let history = legacy(&c.root);
    let row = timeline(&history, "notebook").rows.remove(0);
    let (_, op) = remove(&history, &c.root, &[row.id]);
    let batch = batch_of(&c.root, &op);
    let manifest = batch.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let entry = text
        .split("\"entry\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&manifest, text.replace(&entry, "../../notebook.py")).unwrap();
    let before = tree(&c.root);
    let done = undo(&history, &c.root, &op);
    assert!(!done.failures.is_empty());
    assert_eq!(tree(&c.root), before, "nothing moved");
}

#[test]
fn reclaim_deletes_only_batches_past_the_grace_period() {
    let c = copy("demo");
    let history = legacy(&c.root);
    let rows = timeline(&history, "notebook").rows;
    let (_, old) = remove(&history, &c.root, &[rows[0].id]);
    let (_, fresh) = remove(&history, &c.root, &[rows[1].id]);
    let old_batch = &batch_of(&c.root, &old);
    let manifest = old_batch.join("manifest.json");
    let mut text: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let two_days_ago = celltime_store::model::Timestamp(
        celltime_store::model::Timestamp::now().0 - 2 * 86_400_000,
    );
    text["created_at"] = two_days_ago.to_rfc3339().into();
    std::fs::write(&manifest, serde_json::to_vec(&text).unwrap()).unwrap();
    assert_eq!(history.reclaim("notebook").unwrap(), rows[0].size);
    assert!(!old_batch.exists());
    assert_eq!(undo(&history, &c.root, &fresh).restored, 1);
    assert_eq!(timeline(&history, "notebook").rows.len(), 11);
}
