//! Remotes, end to end, against a real S3-protocol server on loopback (moto) and against a
//! folder (`file://`): the same scenarios run on both. Machines are workspaces with their own
//! writer ids; "cloning" a workspace copies what git would carry (maps and logs).

use celltime_store::model::{ContentHash, NewEntry, NewPart, PartMask};
use celltime_store::remote::{
    Patience, Phase, Progress, PullOptions, PushOptions, Quiet, Remote, RemoteError,
    RemoteGcOptions, add_remote,
};
use celltime_store::store::{RemoteSettings, Store};
use celltime_store::testing::s3::S3Server;
use celltime_store::testing::*;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// One moto server for the whole binary; each test gets its own bucket.
fn shared_server() -> &'static S3Server {
    static SERVER: OnceLock<S3Server> = OnceLock::new();
    SERVER.get_or_init(S3Server::start)
}

/// Where a test's remote lives, and a raw client to look at (and damage) it.
struct Place {
    settings: RemoteSettings,
    raw: Arc<dyn object_store::ObjectStore>,
    prefix: ObjectPath,
    _folder: Option<tempfile::TempDir>,
}

fn s3_place(test: &str) -> Place {
    s3_place_on(shared_server(), test)
}

fn s3_place_on(server: &S3Server, test: &str) -> Place {
    let bucket = test.replace('_', "-");
    server.create_bucket(&bucket);
    let raw = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&bucket)
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_skip_signature(true)
        .build()
        .expect("a raw S3 client");
    Place {
        settings: server.settings("origin", &bucket, "team/celltime"),
        raw: Arc::new(raw),
        prefix: ObjectPath::from("team/celltime"),
        _folder: None,
    }
}

fn folder_place(_test: &str) -> Place {
    let folder = tempfile::tempdir().expect("a folder for the remote");
    let raw = object_store::local::LocalFileSystem::new_with_prefix(folder.path())
        .expect("a raw folder client");
    Place {
        settings: RemoteSettings {
            name: "origin".into(),
            url: format!("file://{}", folder.path().display()),
            fetch: true,
            options: Vec::new(),
            line: None,
        },
        raw: Arc::new(raw),
        prefix: ObjectPath::default(),
        _folder: Some(folder),
    }
}

impl Place {
    /// A machine: a workspace whose store writes as `writer` and knows this remote.
    fn machine(&self, writer: &str) -> Machine {
        let dir = workspace();
        add_remote(&store_as(dir.path(), writer), &self.settings).expect("add the remote");
        Machine {
            dir,
            writer: writer.to_string(),
        }
    }

    fn objects(&self) -> Vec<String> {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            use futures::TryStreamExt;
            let listed: Vec<object_store::ObjectMeta> = self
                .raw
                .list(Some(&self.prefix))
                .try_collect()
                .await
                .expect("list the remote");
            let mut names: Vec<String> =
                listed.into_iter().map(|m| m.location.to_string()).collect();
            names.sort();
            names
        })
    }

    fn bundles(&self) -> Vec<String> {
        self.objects()
            .into_iter()
            .filter(|n| n.ends_with(".bundle"))
            .collect()
    }

    /// Flips the last byte of an object, as damage on the remote would.
    fn tamper(&self, name: &str) {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            let path = ObjectPath::from(name);
            let mut bytes = self
                .raw
                .get(&path)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec();
            *bytes.last_mut().unwrap() ^= 0xff;
            self.raw.put(&path, bytes.into()).await.unwrap();
        });
    }
}

struct Machine {
    dir: tempfile::TempDir,
    writer: String,
}

impl Machine {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn store(&self) -> Store {
        store_as(self.path(), &self.writer)
    }

    fn remote(&self) -> Remote {
        Remote::open(&self.store(), Some("origin")).expect("open the remote")
    }

    fn put(&self, notebook: &str, entries: Vec<NewEntry>) {
        let mut nb = self.store().notebook_for_write(&nb(notebook)).unwrap();
        nb.put_batch(entries).unwrap();
    }

    fn push(&self) -> celltime_store::remote::TransferReport {
        self.remote()
            .push(&self.store(), &PushOptions::default(), Arc::new(Quiet))
            .expect("push")
    }

    fn pull(&self) -> celltime_store::remote::TransferReport {
        self.remote()
            .pull(&self.store(), &PullOptions::default(), Arc::new(Quiet))
            .expect("pull")
    }

    /// A second machine holding what git carries of this one.
    fn clone_to(&self, writer: &str) -> Machine {
        let dir = workspace();
        clone_maps(self.path(), dir.path());
        Machine {
            dir,
            writer: writer.to_string(),
        }
    }

    fn verify_local(&self) {
        let store = self.store();
        for key in store.notebook_keys().unwrap() {
            let report = store.notebook(&key).unwrap().verify().unwrap();
            assert_eq!(report.errors(), 0, "{:#?}", report.problems);
        }
    }

    fn verify_remote(&self) {
        let reports = self
            .remote()
            .verify(&self.store(), &[], true)
            .expect("verify --remote");
        for report in reports {
            assert_eq!(report.errors(), 0, "{:#?}", report.problems);
            assert_eq!(report.on_remote, report.contents, "{}", report.notebook);
        }
    }

    /// Every part of every entry, read as a user would (fetching through the remote).
    fn read_everything(&self, notebook: &str) -> usize {
        let nb = self.store().notebook(&nb(notebook)).unwrap();
        let mut parts = 0;
        for view in nb.index().views() {
            let fetched = nb.get(view.id, PartMask::all()).unwrap();
            for (part, bytes) in fetched.parts {
                let bytes = bytes
                    .unwrap_or_else(|e| panic!("{} of {}: {e}", part.kind.name(), view.id.short()));
                assert_eq!(ContentHash::of(&bytes), part.content);
                parts += 1;
            }
        }
        parts
    }
}

/// An entry with a large part (streamed alone) and a medium one (an object locally).
fn rich_entry(notebook: &str, cell: &str, ms: i64, seed: u8) -> NewEntry {
    let mut e = entry(notebook, cell, "m1", ms, &format!("rich{seed}"));
    e.parts.push(NewPart::output(
        "image/png",
        vec![seed; 5 * 1024 * 1024 + 17],
    ));
    e.parts.push(NewPart::variables(
        "table",
        "pickle",
        vec![seed ^ 0x55; 100_000],
    ));
    e
}

/// `count` runs of one cell (sharing its code snapshot); `seed` makes their times and other
/// contents differ from another machine's.
fn small_entries(notebook: &str, cell: &str, count: i64, seed: &str) -> Vec<NewEntry> {
    let from = 1_000 * (1 + seed.bytes().map(i64::from).sum::<i64>());
    (0..count)
        .map(|i| entry(notebook, cell, "m1", from + i, &format!("{seed}{i}")))
        .collect()
}

/// Runs `act` once, the first time a push reaches `at`.
struct Interleave {
    at: Phase,
    act: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Progress for Interleave {
    fn phase(&self, _notebook: &str, phase: Phase) {
        if phase == self.at
            && let Some(act) = self.act.lock().unwrap().take()
        {
            act();
        }
    }
}

fn gc_now(machine: &Machine) -> celltime_store::remote::RemoteGcReport {
    machine
        .remote()
        .gc(
            &machine.store(),
            &RemoteGcOptions {
                grace: Duration::ZERO,
                notebooks: Vec::new(),
            },
        )
        .expect("gc --remote")
}

// ---- the scenarios, each run against both kinds of remote ----

fn a_fresh_clone_reads_through_and_pulls(place: Place) {
    let a = place.machine("machineA");
    a.put("nb", vec![rich_entry("nb", "plot", 1, 1)]);
    a.put("nb", small_entries("nb", "load", 30, "a"));
    let pushed = a.push();
    assert_eq!(pushed.contents, 30 * 3 + 1 + 6, "{pushed:?}");
    assert!(
        pushed.objects >= 2,
        "large contents travel alone: {pushed:?}"
    );
    let b = a.clone_to("machineB");
    assert!(
        b.store()
            .notebook(&nb("nb"))
            .unwrap()
            .held_contents()
            .unwrap()
            .is_empty()
    );
    // A teammate's run is a cache hit: found by its key, read through the remote.
    {
        let nb = b.store().notebook(&nb("nb")).unwrap();
        let id = nb.find("plot", "m1", "0", None).expect("the pushed run");
        let fetched = nb.get(id, PartMask::all()).unwrap();
        for (part, bytes) in &fetched.parts {
            assert_eq!(ContentHash::of(bytes.as_ref().unwrap()), part.content);
        }
        assert!(
            !nb.held_contents().unwrap().is_empty(),
            "fetched contents are kept"
        );
    }
    let pulled = b.pull();
    assert_eq!(pulled.unavailable, 0);
    assert!(
        pulled.contents > 0 && pulled.already_there > 0,
        "{pulled:?}"
    );
    b.verify_local();
    b.verify_remote();
    assert_eq!(b.read_everything("nb"), 31 * 4 + 2);
}

fn push_and_pull_are_idempotent(place: Place) {
    let a = place.machine("machineA");
    a.put("nb", small_entries("nb", "c", 20, "x"));
    a.push();
    let objects = place.objects();
    let again = a.push();
    assert_eq!((again.contents, again.objects), (0, 0), "{again:?}");
    assert_eq!(place.objects(), objects, "a second push writes nothing");
    let b = a.clone_to("machineB");
    assert!(b.pull().contents > 0);
    let again = b.pull();
    assert_eq!((again.contents, again.objects), (0, 0), "{again:?}");
}

/// Contents over the one-request cutoff are streamed up in parts and down to their files.
fn large_contents_travel_in_parts(place: Place) {
    let a = place.machine("machineA");
    let mut e = entry("nb", "render", "m1", 1, "parts");
    let big: Vec<u8> = (0..17 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    e.parts
        .push(NewPart::output("application/octet-stream", big.clone()));
    a.put("nb", vec![e]);
    let options = PushOptions {
        one_request_up_to: 1024 * 1024,
        ..PushOptions::default()
    };
    let pushed = a
        .remote()
        .push(&a.store(), &options, Arc::new(Quiet))
        .unwrap();
    assert_eq!(
        pushed.objects, 2,
        "the small contents' bundle and the large one's: {pushed:?}"
    );
    let b = a.clone_to("machineB");
    b.pull();
    b.verify_local();
    let object = b
        .store()
        .notebook(&nb("nb"))
        .unwrap()
        .object_file(ContentHash::of(&big));
    assert_eq!(
        std::fs::read(object).unwrap(),
        big,
        "streamed into its object file"
    );
    b.verify_remote();
}

fn pull_takes_only_the_cells_asked_for(place: Place) {
    let a = place.machine("machineA");
    a.put("nb", small_entries("nb", "wanted", 3, "w"));
    a.put("nb", small_entries("nb", "other", 3, "o"));
    a.push();
    let b = a.clone_to("machineB");
    let options = PullOptions {
        notebooks: vec!["n*".into()],
        cells: vec!["wanted".into()],
    };
    let report = b
        .remote()
        .pull(&b.store(), &options, Arc::new(Quiet))
        .unwrap();
    assert_eq!(
        report.contents,
        3 * 3 + 1,
        "three distinct contents per run, one shared code"
    );
    let held = b
        .store()
        .notebook(&nb("nb"))
        .unwrap()
        .held_contents()
        .unwrap();
    let nb = b.store().notebook(&nb("nb")).unwrap();
    for view in nb.index().views() {
        let all_held = nb
            .index()
            .contents_of(&view)
            .iter()
            .all(|(h, _)| held.contains(h));
        assert_eq!(all_held, view.cell == "wanted", "{}", view.cell);
    }
}

fn two_machines_push_at_once(place: Place) {
    let a = place.machine("machineA");
    let b = place.machine("machineB");
    // The same notebook, different runs, one code snapshot in common.
    a.put("shared", small_entries("shared", "c", 40, "a"));
    b.put("shared", small_entries("shared", "c", 40, "b"));
    b.put("shared", vec![rich_entry("shared", "plot", 7, 2)]);
    std::thread::scope(|s| {
        s.spawn(|| a.push());
        s.spawn(|| b.push());
    });
    // C has both machines' runs: A's folder and B's log segment, as a merge would give.
    let c = a.clone_to("machineC");
    let b_log = b.path().join("__marimo__/persist/shared/log");
    copy_tree(&b_log, &c.path().join("__marimo__/persist/shared/log"));
    assert_eq!(c.store().notebook(&nb("shared")).unwrap().index().len(), 81);
    let pulled = c.pull();
    assert_eq!(pulled.unavailable, 0, "{pulled:?}");
    c.verify_local();
    c.verify_remote();
    a.verify_remote();
    b.verify_remote();
}

/// A gc on A runs after B's push listed the remote (so B believes a shared content is there)
/// and takes that content away: B's check after its commit must upload it again.
fn gc_after_another_push_listed(place: Place) {
    let a = place.machine("machineA");
    a.put("nb", small_entries("nb", "c", 5, "a"));
    a.push();
    let b = place.machine("machineB");
    // B's runs share A's code snapshot, which B's push will find on the remote and skip.
    b.put("nb", small_entries("nb", "c", 5, "b"));
    let ids: Vec<_> = a
        .store()
        .notebook(&nb("nb"))
        .unwrap()
        .index()
        .views()
        .iter()
        .map(|v| v.id)
        .collect();
    let hook = {
        let a_path = a.path().to_path_buf();
        move || {
            let store = store_as(&a_path, "machineA");
            store.notebook(&nb("nb")).unwrap().remove(&ids).unwrap();
            let remote = Remote::open(&store, Some("origin")).unwrap();
            remote
                .push(&store, &PushOptions::default(), Arc::new(Quiet))
                .unwrap();
            let report = remote
                .gc(
                    &store,
                    &RemoteGcOptions {
                        grace: Duration::ZERO,
                        notebooks: Vec::new(),
                    },
                )
                .unwrap();
            assert!(
                report.bundles_deleted > 0,
                "A's gc freed its bundle: {report:?}"
            );
        }
    };
    let progress = Arc::new(Interleave {
        at: Phase::Transferring,
        act: Mutex::new(Some(Box::new(hook))),
    });
    let report = b
        .remote()
        .push(&b.store(), &PushOptions::default(), progress)
        .unwrap();
    assert!(
        report.already_there > 0,
        "B relied on a content A had pushed: {report:?}"
    );
    b.verify_remote();
    let c = b.clone_to("machineC");
    assert_eq!(c.pull().unavailable, 0);
    c.verify_local();
}

/// A gc runs after B uploaded its bundles but before B committed its roots: nothing yet
/// references them, so the gc (with no grace) takes them; B's check uploads them again.
fn gc_between_upload_and_commit(place: Place) {
    let a = place.machine("machineA");
    a.put("nb", small_entries("nb", "c", 2, "a"));
    a.push();
    let b = place.machine("machineB");
    b.put("nb", small_entries("nb", "d", 10, "b"));
    let a_path = a.path().to_path_buf();
    let hook = move || {
        let store = store_as(&a_path, "machineA");
        let remote = Remote::open(&store, Some("origin")).unwrap();
        let report = remote
            .gc(
                &store,
                &RemoteGcOptions {
                    grace: Duration::ZERO,
                    notebooks: Vec::new(),
                },
            )
            .unwrap();
        assert!(
            report.bundles_deleted > 0,
            "B's uncommitted bundle was swept: {report:?}"
        );
    };
    let progress = Arc::new(Interleave {
        at: Phase::Committing,
        act: Mutex::new(Some(Box::new(hook))),
    });
    let report = b
        .remote()
        .push(&b.store(), &PushOptions::default(), progress)
        .unwrap();
    assert!(report.objects >= 2, "uploaded twice: {report:?}");
    b.verify_remote();
    a.verify_remote();
    let c = b.clone_to("machineC");
    assert_eq!(c.pull().unavailable, 0);
    c.verify_local();
}

/// Many rounds of pushes on B while A collects garbage with no grace period: B's every
/// push ends with its contents on the remote.
fn gc_and_push_race(place: Place) {
    let a = place.machine("machineA");
    let b = place.machine("machineB");
    a.put("nb", small_entries("nb", "c", 3, "a"));
    a.push();
    std::thread::scope(|s| {
        s.spawn(|| {
            for round in 0..6 {
                b.put(
                    "nb",
                    small_entries("nb", &format!("b{round}"), 4, &format!("r{round}")),
                );
                b.push();
            }
        });
        s.spawn(|| {
            for _ in 0..6 {
                gc_now(&a);
            }
        });
    });
    b.verify_remote();
    let c = b.clone_to("machineC");
    assert_eq!(c.pull().unavailable, 0);
    c.verify_local();
}

fn gc_frees_what_no_map_needs_after_the_grace_period(place: Place) {
    let a = place.machine("machineA");
    a.put("nb", vec![rich_entry("nb", "plot", 1, 3)]);
    a.put("nb", small_entries("nb", "keep", 4, "k"));
    a.push();
    let store = a.store();
    let plot: Vec<_> = store
        .notebook(&nb("nb"))
        .unwrap()
        .index()
        .views()
        .iter()
        .filter(|v| v.cell == "plot")
        .map(|v| v.id)
        .collect();
    store.notebook(&nb("nb")).unwrap().remove(&plot).unwrap();
    a.push();
    let before = place.bundles();
    let long = a
        .remote()
        .gc(
            &store,
            &RemoteGcOptions {
                grace: Duration::from_secs(86_400),
                notebooks: Vec::new(),
            },
        )
        .unwrap();
    assert_eq!(
        long.bundles_deleted + long.notebooks[0].bundles_condemned,
        0,
        "{long:?}"
    );
    assert!(long.notebooks[0].young_kept > 0);
    assert_eq!(
        place.bundles(),
        before,
        "nothing younger than the grace period goes"
    );
    let report = gc_now(&a);
    assert!(report.freed_bytes > 5 * 1024 * 1024, "{report:?}");
    a.verify_remote();
    let b = a.clone_to("machineB");
    assert_eq!(b.pull().unavailable, 0);
    assert_eq!(b.read_everything("nb"), 4 * 4);
}

fn bad_remotes_fail_clearly_and_change_nothing(place: Place) {
    let a = place.machine("machineA");
    a.put("nb", small_entries("nb", "c", 3, "a"));
    a.push();
    let b = a.clone_to("machineB");
    // A damaged bundle: the pull names it, stores nothing of what it damaged.
    let bundle = place.bundles().remove(0);
    place.tamper(&bundle);
    let before = tree(b.path());
    let err = b
        .remote()
        .pull(&b.store(), &PullOptions::default(), Arc::new(Quiet))
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("\"origin\"") && message.contains(bundle.rsplit('/').next().unwrap()),
        "{message}"
    );
    assert!(message.contains("does not match its hash"), "{message}");
    let after = tree(b.path());
    let stored: Vec<_> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    assert!(
        stored
            .iter()
            .all(|p| p.to_string_lossy().contains("packs") || p.ends_with(".lock")),
        "{stored:?}"
    );
    // What was stored is sound; only contents the damage made unreadable are missing.
    let report = b.store().notebook(&nb("nb")).unwrap().verify().unwrap();
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.at.message.ends_with("is missing")),
        "{:#?}",
        report.problems
    );
    let report = b.remote().verify(&b.store(), &[], true).unwrap();
    assert!(report[0].errors() > 0, "verify --read finds the damage");
    // Reading through a damaged remote fails that part only, naming remote and object.
    let nb = b.store().notebook(&nb("nb")).unwrap();
    let view = nb.index().views()[0];
    let failures: Vec<String> = nb
        .get(view.id, PartMask::all())
        .unwrap()
        .parts
        .into_iter()
        .filter_map(|(_, r)| r.err().map(|e| e.to_string()))
        .collect();
    assert!(
        failures.iter().all(|f| f.contains("origin")),
        "{failures:?}"
    );
}

macro_rules! on_both_remotes {
    ($($scenario:ident),* $(,)?) => {
        mod s3 {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(super::s3_place(stringify!($scenario)));
                }
            )*
        }
        mod folder {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(super::folder_place(stringify!($scenario)));
                }
            )*
        }
    };
}

on_both_remotes!(
    a_fresh_clone_reads_through_and_pulls,
    push_and_pull_are_idempotent,
    large_contents_travel_in_parts,
    pull_takes_only_the_cells_asked_for,
    two_machines_push_at_once,
    gc_after_another_push_listed,
    gc_between_upload_and_commit,
    gc_and_push_race,
    gc_frees_what_no_map_needs_after_the_grace_period,
    bad_remotes_fail_clearly_and_change_nothing,
);

// ---- the server itself failing ----

/// The server dies in the middle of a push: the push fails naming the remote and an
/// object, the local store is untouched, and once the server is back a push completes with
/// nothing lost. (moto keeps objects in memory, so it comes back empty.)
#[test]
fn a_server_killed_mid_push_loses_nothing() {
    let server = Arc::new(Mutex::new(S3Server::start()));
    let place = s3_place_on(&server.lock().unwrap(), "killed-mid-push");
    let a = place.machine("machineA");
    a.put(
        "nb",
        vec![
            rich_entry("nb", "plot", 1, 4),
            rich_entry("nb", "plot2", 2, 5),
        ],
    );
    a.put("nb", small_entries("nb", "c", 50, "a"));
    let before = tree(a.path());
    struct KillOnFirstByte(Arc<Mutex<S3Server>>, Mutex<bool>);
    impl Progress for KillOnFirstByte {
        fn advance(&self, _contents: u64, _bytes: u64) {
            let mut done = self.1.lock().unwrap();
            if !*done {
                *done = true;
                self.0.lock().unwrap().kill();
            }
        }
    }
    let progress = Arc::new(KillOnFirstByte(server.clone(), Mutex::new(false)));
    let err = a
        .remote()
        .push(&a.store(), &PushOptions::default(), progress)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("remote \"origin\": http://")
            || message.contains("s3://killed-mid-push/"),
        "{message}"
    );
    assert!(matches!(err, RemoteError::Object { .. }), "{err:?}");
    assert_eq!(
        tree(a.path()),
        before,
        "a failed push changes nothing locally"
    );
    {
        let mut server = server.lock().unwrap();
        server.restart();
        server.create_bucket("killed-mid-push");
    }
    let report = a.push();
    assert_eq!(report.unavailable, 0);
    a.verify_remote();
    let b = a.clone_to("machineB");
    assert_eq!(b.pull().unavailable, 0);
    b.verify_local();
    assert_eq!(b.read_everything("nb"), 52 * 4 + 4);
}

#[test]
fn unreachable_unknown_missing_and_refused_remotes_name_the_remote() {
    let a = folder_place("x").machine("machineA");
    a.put("nb", small_entries("nb", "c", 2, "a"));
    let store = a.store();
    let before = tree(a.path());
    let connect = |settings: &RemoteSettings| {
        Remote::connect(settings, "machineA", Patience::Interactive)
            .and_then(|r| r.push(&store, &PushOptions::default(), Arc::new(Quiet)))
            .unwrap_err()
            .to_string()
    };
    let server = shared_server();
    let mut unknown = server.settings("weird", "b", "p");
    unknown.url = "ftp://host/path".into();
    let message = connect(&unknown);
    assert!(
        message.contains("\"weird\"") && message.contains("unknown scheme \"ftp\""),
        "{message}"
    );

    let mut unreachable = server.settings("gone", "b", "p");
    unreachable.options[0].1 = "http://127.0.0.1:9".into();
    let message = connect(&unreachable);
    assert!(
        message.contains("\"gone\"") && message.contains("s3://b/p/celltime-remote.toml"),
        "{message}"
    );
    assert!(message.contains("cannot reach the server"), "{message}");

    let missing = server.settings("nobucket", "no-such-bucket", "p");
    let message = connect(&missing);
    assert!(
        message.contains("\"nobucket\"") && message.contains("bucket does not exist"),
        "{message}"
    );

    let guarded = S3Server::start_authenticated();
    let mut refused = guarded.settings("guarded", "any", "p");
    refused.options.retain(|(k, _)| k != "skip_signature");
    refused
        .options
        .push(("access_key_id".into(), "AKIAWRONG".into()));
    refused
        .options
        .push(("secret_access_key".into(), "wrong".into()));
    let message = connect(&refused);
    assert!(
        message.contains("\"guarded\"") && message.contains("access denied"),
        "{message}"
    );

    assert_eq!(
        tree(a.path()),
        before,
        "failed remotes change nothing locally"
    );
}

/// A remote that cannot be reached is asked once, not at every read: a notebook opened
/// offline waits for it once (each later read fails at once, saying why).
#[test]
fn a_remote_that_cannot_be_reached_is_left_alone_for_a_while() {
    let place = folder_place("resting");
    let a = place.machine("machineA");
    a.put("nb", small_entries("nb", "c", 2, "a"));
    a.push();
    let b = a.clone_to("machineB");
    let mut unreachable = shared_server().settings("origin", "b", "p");
    unreachable.options[0].1 = "http://127.0.0.1:9".into();
    celltime_store::remote::remove_remote(&b.store(), "origin").unwrap();
    add_remote(&b.store(), &unreachable).unwrap();

    let nb = b.store().notebook(&nb("nb")).unwrap();
    let failures: Vec<String> = nb
        .index()
        .views()
        .iter()
        .flat_map(|view| nb.get(view.id, PartMask::all()).unwrap().parts)
        .filter_map(|(_, read)| read.err().map(|e| e.to_string()))
        .collect();
    assert!(failures.len() > 2, "{failures:?}");
    assert!(
        failures[0].contains("cannot reach the server") && !failures[0].contains("not asked"),
        "{}",
        failures[0]
    );
    for later in &failures[1..] {
        assert!(
            later.contains("remote \"origin\"") && later.contains("not asked again for"),
            "{later}"
        );
    }
}
