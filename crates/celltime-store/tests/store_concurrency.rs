//! Two processes writing to one notebook at once — each putting, consolidating (which retires
//! the other's segments, since both run on this machine) and collecting garbage — lose
//! nothing, and a reader during the writes always sees a consistent state.

use celltime_store::model::PartMask;
use celltime_store::testing::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const PUTS: usize = 40;

#[test]
#[ignore = "run by the concurrency test as a child process"]
fn writer_child() {
    let dir = std::env::var("CELLTIME_CHILD_DIR").expect("child of the concurrency test");
    let name = std::env::var("CELLTIME_CHILD_NAME").expect("child of the concurrency test");
    let mut notebook = store(Path::new(&dir))
        .notebook_for_write(&nb("nb"))
        .unwrap();
    for i in 0..PUTS {
        notebook
            .put(entry("nb", &name, "m1", i as i64, &format!("{name}-{i}")))
            .unwrap();
        match i % 10 {
            4 => notebook.consolidate().unwrap(),
            9 => {
                notebook.gc(Duration::ZERO).unwrap();
            }
            _ => {}
        }
    }
    notebook.consolidate().unwrap();
}

fn spawn(dir: &Path, name: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "store_concurrency::writer_child",
            "--test-threads=1",
        ])
        .env("CELLTIME_CHILD_DIR", dir)
        .env("CELLTIME_CHILD_NAME", name)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// Every entry a reader lists must have all its contents.
fn consistent(dir: &Path) -> usize {
    let Ok(notebook) = store(dir).notebook(&nb("nb")) else {
        return 0;
    };
    for view in notebook.index().views() {
        let fetched = notebook.get(view.id, PartMask::all()).unwrap();
        for (part, bytes) in fetched.parts {
            if let Err(e) = bytes {
                panic!(
                    "listed entry {} without its {}: {e}",
                    view.id.short(),
                    part.kind
                );
            }
        }
    }
    notebook.index().len()
}

#[test]
fn two_writers_and_a_reader() {
    let dir = workspace();
    let mut a = spawn(dir.path(), "alpha");
    let mut b = spawn(dir.path(), "beta");
    let mut seen = 0;
    loop {
        let count = consistent(dir.path());
        assert!(count >= seen, "entries disappeared: {count} after {seen}");
        seen = count;
        if a.try_wait().unwrap().is_some() && b.try_wait().unwrap().is_some() {
            break;
        }
    }
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    assert_eq!(consistent(dir.path()), 2 * PUTS);
    let notebook = store(dir.path()).notebook(&nb("nb")).unwrap();
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.problems);
    for cell in ["alpha", "beta"] {
        let count = notebook
            .index()
            .views()
            .iter()
            .filter(|v| v.cell == cell)
            .count();
        assert_eq!(count, PUTS, "{cell}");
    }
}
