//! A real S3-protocol server on loopback for the remote's tests: moto's server
//! (`pip install "moto[server]"`), started by the tests themselves. `scripts/test` installs it
//! and sets `CELLTIME_MOTO_SERVER`; without it the tests fail, saying how to install it.

use crate::store::RemoteSettings;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The moto_server executable: `$CELLTIME_MOTO_SERVER`, else `moto_server` on `PATH`.
pub fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("CELLTIME_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("moto_server"))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "the remote tests need an S3-protocol server on loopback and found none: \
                 install moto (`pip install \"moto[server]==5.2.1\"`) or set \
                 CELLTIME_MOTO_SERVER to its moto_server; scripts/test does both"
            )
        })
}

/// A moto server on a free loopback port, killed when dropped, and also when the test
/// process ends however it ends: the server runs under a shell that kills it once its stdin
/// (a pipe from this process) closes. A server kept in a `static` is never dropped.
#[derive(Debug)]
pub struct S3Server {
    child: Option<Child>,
    pub port: u16,
    /// Every request must be signed by a known key (moto's IAM): for the wrong-credentials
    /// tests. Plain servers accept any request.
    authenticated: bool,
}

impl S3Server {
    pub fn start() -> S3Server {
        S3Server::launch(free_port(), false)
    }

    /// A server that refuses every key it does not know (all of them).
    pub fn start_authenticated() -> S3Server {
        S3Server::launch(free_port(), true)
    }

    fn launch(port: u16, authenticated: bool) -> S3Server {
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                r#""$0" -H 127.0.0.1 -p "$1" & pid=$!; read _; kill -9 $pid; wait $pid"#,
            ])
            .arg(moto_server())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if authenticated {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", moto_server().display()));
        let server = S3Server {
            child: Some(child),
            port,
            authenticated,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < START_TIMEOUT {
            if request(self.port, "GET", "/", "").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "moto_server did not answer on port {} within {START_TIMEOUT:?}",
            self.port
        );
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash would, and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (moto keeps objects in memory: it comes
    /// back empty).
    pub fn restart(&mut self) {
        self.kill();
        let again = S3Server::launch(self.port, self.authenticated);
        self.child = again.child_taken();
    }

    fn child_taken(mut self) -> Option<Child> {
        self.child.take()
    }

    /// A bucket anyone may read and write, so that library tests (which cannot set
    /// credentials in their environment) send unsigned requests.
    pub fn create_bucket(&self, bucket: &str) {
        let status = request(
            self.port,
            "PUT",
            &format!("/{bucket}"),
            "x-amz-acl: public-read-write\r\n",
        )
        .unwrap_or_else(|| panic!("moto_server on port {} does not answer", self.port));
        assert!(
            status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200"),
            "create bucket {bucket}: {status}"
        );
    }

    /// Settings for a remote in `bucket` under `prefix`, with no credentials (unsigned
    /// requests, which moto accepts): library tests cannot set environment variables.
    pub fn settings(&self, name: &str, bucket: &str, prefix: &str) -> RemoteSettings {
        RemoteSettings {
            name: name.to_string(),
            url: format!("s3://{bucket}/{prefix}"),
            fetch: true,
            options: vec![
                ("endpoint".into(), self.endpoint()),
                ("allow_http".into(), "true".into()),
                ("region".into(), "us-east-1".into()),
                ("skip_signature".into(), "true".into()),
            ],
            line: None,
        }
    }

    /// The environment a `celltime` process needs to reach this server as a user would
    /// configure it (any key works on a plain server).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One bodiless HTTP request (`headers` end with CRLF each); the status line, or None when
/// nothing answers.
fn request(port: u16, method: &str, path: &str, headers: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_string)
}
