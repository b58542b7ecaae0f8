//! A cloned store is untrusted input (docs/RELIABILITY.md, "Threat model"): the store-only
//! findings. The command-line ones are in the program's `tests/untrusted.rs`.

use celltime_store::model::ContentHash;
use celltime_store::testing::*;

#[test]
fn a_pack_row_longer_than_the_map_records_is_damage_and_is_not_read() {
    let dir = workspace();
    let store = store(dir.path());
    let mut notebook = store.notebook_for_write(&nb("nb")).unwrap();
    notebook.put(entry("nb", "cell", "m1", 1, "a")).unwrap();
    notebook.consolidate().unwrap();
    let text = b"result a";
    let hash = ContentHash::of(text);
    let packs = notebook.dir().join("packs");
    let pack = std::fs::read_dir(&packs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let conn = rusqlite::Connection::open(&pack).unwrap();
    let changed = conn
        .execute(
            "UPDATE contents SET content = zeroblob(50000000) WHERE hash = ?1",
            [hash.to_hex()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let notebook = store.notebook(&nb("nb")).unwrap();
    let err = notebook.reader().read(hash, text.len() as u64).unwrap_err();
    assert!(
        err.to_string()
            .contains("holds 50000000 bytes where the map records 8; it was not read"),
        "{err}"
    );
    let report = notebook.verify().unwrap();
    assert_eq!(report.errors(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0]
            .at
            .message
            .contains("holds 50000000 bytes, more than any content the map records"),
        "{:?}",
        report.problems
    );
    assert!(report.bytes_hashed < 1_000_000, "{}", report.bytes_hashed);
}
