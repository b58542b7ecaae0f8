//! Remote figures (issue 17): `celltime push` and `pull` of the 100,000-entry scale notebook
//! and of 1 GiB of large contents against an S3 server on loopback, next to `rclone copy` and
//! `aws s3 sync` of the same contents (one object per content, as a per-content remote cache
//! stores them), measured in the same run. Whole processes, release build, medians.
//!
//! Needs an S3 server and the peers: `s3s-fs` (`cargo install --locked s3s-fs@0.14.1
//! --features binary`; moto's server is used when s3s-fs is missing, and is much slower for
//! everyone), `rclone` (`apt-get install rclone`) and `aws` (`pip install awscli`); a missing
//! peer is skipped. Run: `cargo bench --bench remote [small|large]`. `CELLTIME_BENCH_RUNS`
//! (default 3) sets the runs; the peers copy the 300,000 objects of the small case once
//! (`CELLTIME_BENCH_PEER_SMALL_RUNS`, default 1: that takes them many minutes), and `aws` is
//! left out of the small case unless `CELLTIME_BENCH_AWS_SMALL=1` (about 20 minutes a copy).
//! Scratch data lives in `target/bench-data/remote/` and is deleted at the end.

use celltime::demo::{DemoOptions, generate};
use celltime_store::model::{ContentHash, NewEntry, NewPart};
use celltime_store::store::{Store, Workspace};
use celltime_store::testing::s3::S3Server;
use celltime_store::testing::{clone_maps, copy_tree, entry, nb, store_as};
use serde_json::Value;
use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "benchkey";
const SECRET: &str = "benchsecret";
const BUCKET: &str = "bench";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The S3 server on loopback: s3s-fs (a real server over a folder) or moto.
enum Server {
    S3sFs {
        child: Child,
        port: u16,
        root: PathBuf,
    },
    Moto(S3Server),
}

impl Server {
    fn start(root: &Path) -> Server {
        let s3s = std::env::var_os("CELLTIME_BENCH_S3S")
            .map(PathBuf::from)
            .or_else(|| on_path("s3s-fs"));
        let Some(s3s) = s3s else {
            println!("  (s3s-fs not found: using moto's server, which is much slower)");
            let moto = S3Server::start();
            moto.create_bucket(BUCKET);
            return Server::Moto(moto);
        };
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(s3s)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", KEY, "--secret-key", SECRET])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "s3s-fs did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server::S3sFs {
            child,
            port,
            root: root.to_path_buf(),
        }
    }

    /// Deletes what a run wrote under `prefix`, so the scratch space holds one run at a time
    /// (s3s-fs keeps objects as files; moto keeps them in memory).
    fn forget(&self, prefix: &str) {
        if let Server::S3sFs { root, .. } = self {
            let _ = std::fs::remove_dir_all(root.join(BUCKET).join(prefix));
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Server::S3sFs { .. } => "s3s-fs 0.14.1",
            Server::Moto(_) => "moto",
        }
    }

    fn endpoint(&self) -> String {
        match self {
            Server::S3sFs { port, .. } => format!("http://127.0.0.1:{port}"),
            Server::Moto(moto) => moto.endpoint(),
        }
    }

    /// What celltime (and rclone) need to reach it, as a user would set it.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET.into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::S3sFs { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn celltime(server: &Server) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_celltime"));
    for (name, value) in server.env() {
        command.env(name, value);
    }
    command.env("CELLTIME_WRITER", "benchmachine");
    command
}

/// A peer that copies a folder of one file per content to the remote and back.
struct Peer {
    name: &'static str,
    program: PathBuf,
}

impl Peer {
    fn available() -> Vec<Peer> {
        [("rclone copy", "rclone"), ("aws s3 sync", "aws")]
            .into_iter()
            .filter_map(|(name, program)| on_path(program).map(|program| Peer { name, program }))
            .collect()
    }

    fn upload(&self, server: &Server, from: &Path, prefix: &str) -> Command {
        let mut command = self.command(server);
        match self.name {
            "rclone copy" => command
                .arg("copy")
                .arg(from)
                .arg(format!("bench:{BUCKET}/{prefix}")),
            _ => command
                .args(["s3", "sync", "--quiet"])
                .arg(from)
                .arg(format!("s3://{BUCKET}/{prefix}/")),
        };
        command
    }

    fn download(&self, server: &Server, prefix: &str, to: &Path) -> Command {
        let mut command = self.command(server);
        match self.name {
            "rclone copy" => command
                .arg("copy")
                .arg(format!("bench:{BUCKET}/{prefix}"))
                .arg(to),
            _ => command
                .args(["s3", "sync", "--quiet"])
                .arg(format!("s3://{BUCKET}/{prefix}/"))
                .arg(to),
        };
        command
    }

    fn command(&self, server: &Server) -> Command {
        if self.name == "rclone copy" {
            return rclone(server, &self.program);
        }
        let mut command = Command::new(&self.program);
        command.env_remove("AWS_CA_BUNDLE");
        for (name, value) in server.env() {
            command.env(name, value);
        }
        command
    }
}

fn rclone(server: &Server, rclone: &Path) -> Command {
    let mut command = Command::new(rclone);
    command
        .env_remove("AWS_CA_BUNDLE")
        .env("RCLONE_CONFIG_BENCH_TYPE", "s3")
        .env("RCLONE_CONFIG_BENCH_PROVIDER", "Other")
        .env("RCLONE_CONFIG_BENCH_ENDPOINT", server.endpoint())
        .env("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", KEY)
        .env("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", SECRET)
        .env("RCLONE_CONFIG_BENCH_REGION", "us-east-1")
        .args([
            "--config",
            "/dev/null",
            "--transfers",
            "16",
            "--checkers",
            "16",
        ]);
    command
}

/// Runs a command to completion and returns how long it took; it must succeed.
fn time(command: &mut Command) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let output = command.output().expect("run");
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (took, output.stdout)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Every content of the workspace's notebooks as one file per content: what rclone copies.
fn export_contents(workspace: &Path, to: &Path) -> (usize, u64) {
    let store = Store::open(&Workspace::at(workspace)).unwrap();
    let (mut count, mut bytes) = (0, 0);
    for key in store.notebook_keys().unwrap() {
        let notebook = store.notebook(&key).unwrap();
        let wanted = notebook.index().referenced_contents();
        let mut write = |hash: ContentHash, content: &[u8]| {
            let hex = hash.to_hex();
            let dir = to.join(&hex[..2]);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(&hex), content).unwrap();
            count += 1;
            bytes += content.len() as u64;
        };
        let mut packed = HashSet::new();
        notebook
            .read_packed(&wanted, |hash, content| {
                packed.insert(hash);
                write(hash, content);
                Ok(())
            })
            .unwrap();
        for hash in wanted.keys().filter(|h| !packed.contains(*h)) {
            write(*hash, &std::fs::read(notebook.object_file(*hash)).unwrap());
        }
    }
    (count, bytes)
}

/// 16 runs of 64 MiB each: 1 GiB of large contents.
fn large_workspace(dir: &Path) {
    let store = store_as(dir, "benchmachine");
    let mut notebook = store.notebook_for_write(&nb("large")).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..16 {
        let mut e: NewEntry = entry("large", "render", "m1", i, &i.to_string());
        let mut bytes = vec![0u8; 64 * 1024 * 1024];
        for chunk in bytes.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        e.parts
            .push(NewPart::output("application/octet-stream", bytes));
        notebook.put(e).unwrap();
    }
    notebook.consolidate().unwrap();
}

fn case(
    name: &str,
    source: &Path,
    work: &Path,
    server: &Server,
    peers: &[&Peer],
    runs: usize,
    peer_runs: usize,
) {
    let workspace = work.join(format!("{name}-a"));
    copy_tree(source, &workspace);
    let export = work.join(format!("{name}-export"));
    let (contents, bytes) = export_contents(&workspace, &export);
    println!(
        "{name}: {contents} contents, {:.1} MiB",
        bytes as f64 / (1024.0 * 1024.0)
    );
    let (mut push, mut pull) = (Vec::new(), Vec::new());
    let mut peer_times: Vec<(Vec<Duration>, Vec<Duration>)> =
        vec![(Vec::new(), Vec::new()); peers.len()];
    for run in 0..runs {
        let remote = format!("r{run}");
        let remote_prefix = format!("{name}-celltime-{run}");
        let url = format!("s3://{BUCKET}/{remote_prefix}");
        time(
            celltime(server)
                .args(["remote", "add", &remote, &url, "-C"])
                .arg(&workspace),
        );
        let (took, out) = time(
            celltime(server)
                .args(["push", &remote, "--json", "-C"])
                .arg(&workspace),
        );
        let pushed: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            pushed["contents"].as_u64(),
            Some(contents as u64),
            "{pushed}"
        );
        push.push(took);
        let clone = work.join(format!("{name}-clone"));
        clone_maps(&workspace, &clone);
        let (took, out) = time(
            celltime(server)
                .args(["pull", &remote, "--json", "-C"])
                .arg(&clone),
        );
        let pulled: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            pulled["contents"].as_u64(),
            Some(contents as u64),
            "{pulled}"
        );
        pull.push(took);
        std::fs::remove_dir_all(&clone).unwrap();
        server.forget(&remote_prefix);
        for (peer, times) in peers
            .iter()
            .zip(peer_times.iter_mut())
            .filter(|_| run < peer_runs)
        {
            let prefix = format!("{name}-{}-{run}", peer.program.display()).replace('/', "_");
            times
                .0
                .push(time(&mut peer.upload(server, &export, &prefix)).0);
            let back = work.join(format!("{name}-peer-back"));
            times
                .1
                .push(time(&mut peer.download(server, &prefix, &back)).0);
            std::fs::remove_dir_all(&back).unwrap();
            server.forget(&prefix);
        }
    }
    report(name, "push", &push, peers, peer_times.iter().map(|t| &t.0));
    report(name, "pull", &pull, peers, peer_times.iter().map(|t| &t.1));
    std::fs::remove_dir_all(&workspace).unwrap();
    std::fs::remove_dir_all(&export).unwrap();
}

fn report<'a>(
    name: &str,
    what: &str,
    ours: &[Duration],
    peers: &[&Peer],
    peer_times: impl Iterator<Item = &'a Vec<Duration>>,
) {
    let ours_median = median(ours.to_vec());
    println!(
        "  {name} {what}: celltime {} (n={})",
        secs(ours_median),
        ours.len()
    );
    for (peer, times) in peers.iter().zip(peer_times).filter(|(_, t)| !t.is_empty()) {
        let peer_median = median(times.to_vec());
        println!(
            "  {name} {what}: {} {} (n={}): celltime takes {:.2}× its time",
            peer.name,
            secs(peer_median),
            times.len(),
            ours_median.as_secs_f64() / peer_median.as_secs_f64()
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; these figures are for `cargo bench`.
    }
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let runs: usize = std::env::var("CELLTIME_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let peer_small_runs: usize = std::env::var("CELLTIME_BENCH_PEER_SMALL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let work = data_dir().join("remote");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let server = Server::start(&work.join("s3"));
    let peers = Peer::available();
    let names: Vec<&str> = peers.iter().map(|p| p.name).collect();
    println!(
        "remote benchmarks (whole processes, release build, medians) against {} on loopback; peers: {}",
        server.name(),
        if names.is_empty() {
            "none (install rclone and awscli)".into()
        } else {
            names.join(", ")
        }
    );
    let aws_small = std::env::var_os("CELLTIME_BENCH_AWS_SMALL").is_some();
    let small_peers: Vec<&Peer> = peers
        .iter()
        .filter(|p| aws_small || p.name != "aws s3 sync")
        .collect();
    let all_peers: Vec<&Peer> = peers.iter().collect();
    if "small".contains(&filter) || filter.is_empty() {
        let scale = data_dir().join("scale-100000");
        if !scale.join("__marimo__").exists() {
            std::fs::create_dir_all(&scale).unwrap();
            generate(
                &scale,
                &DemoOptions {
                    seed: 7,
                    scale: Some(100_000),
                },
            )
            .unwrap();
        }
        case(
            "small",
            &scale,
            &work,
            &server,
            &small_peers,
            runs,
            peer_small_runs.min(runs),
        );
    }
    if "large".contains(&filter) || filter.is_empty() {
        let large = work.join("large-source");
        large_workspace(&large);
        case("large", &large, &work, &server, &all_peers, runs, runs);
        std::fs::remove_dir_all(&large).unwrap();
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
}
