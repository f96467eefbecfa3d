//! Starts the real `junction` binary and small local upstreams for it to call.

use std::{
    io::Read,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The binary under test.
pub fn junction() -> Command {
    Command::new(env!("CARGO_BIN_EXE_junction"))
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A scratch directory removed on drop (the store's test helper, shared by every suite).
pub use junction_store::conformance::Scratch;

/// Output of a child process, collected while it runs.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<String>>);

impl Captured {
    fn drain(&self, mut from: impl Read + Send + 'static) {
        let sink = self.0.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// A running `junction serve`.
pub struct TestGateway {
    pub child: Child,
    pub addr: SocketAddr,
    pub output: Captured,
    config: PathBuf,
    dir: Option<Scratch>,
}

impl TestGateway {
    /// Starts `junction serve` on a free port with `manifest` (its `[server]`
    /// section is written here) and extra environment variables.
    pub fn start(manifest: &str, env: &[(&str, &str)]) -> Self {
        let dir = Scratch::new("serve");
        let mut gateway = Self::start_in(dir.path(), free_port(), manifest, env);
        gateway.dir = Some(dir);
        gateway
    }

    /// Starts `junction serve` in `dir` (its store lives there) on `port`,
    /// so a test can kill it and start it again on the same data.
    pub fn start_in(dir: &Path, port: u16, manifest: &str, env: &[(&str, &str)]) -> Self {
        let text = format!("[server]\nlisten = \"127.0.0.1:{port}\"\n{manifest}");
        let config = dir.join("junction.toml");
        std::fs::write(&config, text).unwrap();
        let mut cmd = junction();
        cmd.arg("serve").arg("--config").arg(&config).current_dir(dir);
        cmd.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let output = Captured::default();
        output.drain(child.stdout.take().unwrap());
        output.drain(child.stderr.take().unwrap());
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let gateway = Self { child, addr, output, config, dir: None };
        gateway.wait_ready();
        gateway
    }

    /// The manifest this gateway runs with.
    pub fn config_path(&self) -> PathBuf {
        self.config.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if probe::status(&self.url("/readyz")).is_ok_and(|code| code == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "junction did not become ready:\n{}", self.output.text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, up to `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "junction did not exit:\n{}", self.output.text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        drop(self.dir.take());
    }
}

/// A blocking status probe that needs no async runtime (readiness polling
/// runs in plain `#[test]`s too).
pub mod probe {
    use std::{
        io::{Read, Write},
        net::TcpStream,
        time::Duration,
    };

    /// Sends `request` as written (no client-side URL normalisation) and
    /// returns the whole answer.
    pub fn raw(addr: std::net::SocketAddr, request: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    /// The status code of a `GET` over a fresh connection.
    pub fn status(url: &str) -> std::io::Result<u16> {
        let rest = url.strip_prefix("http://").expect("an http URL");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut stream = TcpStream::connect(host)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(std::str::from_utf8(&head[9..12]).unwrap_or("0").parse().unwrap_or(0))
    }
}

/// A local stand-in for a third-party API.
pub mod upstream {
    use std::{
        net::SocketAddr,
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use axum::{Router, extract::Request, http::HeaderMap, routing::any};

    /// What the upstream has seen.
    #[derive(Clone, Default)]
    pub struct Seen {
        pub started: Arc<AtomicUsize>,
        pub headers: Arc<std::sync::Mutex<Vec<HeaderMap>>>,
    }

    impl Seen {
        pub fn started(&self) -> usize {
            self.started.load(Ordering::SeqCst)
        }
    }

    /// Serves `/slow` (answers after `delay`) and echoes everything else.
    pub async fn start(delay: Duration) -> (SocketAddr, Seen) {
        let seen = Seen::default();
        let s = seen.clone();
        let app = Router::new().fallback(any(move |request: Request| {
            let s = s.clone();
            async move {
                s.started.fetch_add(1, Ordering::SeqCst);
                s.headers.lock().unwrap().push(request.headers().clone());
                let path = request.uri().path().to_owned();
                if path == "/slow" {
                    tokio::time::sleep(delay).await;
                    return "done".to_owned();
                }
                let query = request.uri().query().unwrap_or_default().to_owned();
                let body = axum::body::to_bytes(request.into_body(), 1 << 20).await.unwrap_or_default();
                format!("{path}?{query} {}", String::from_utf8_lossy(&body))
            }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, seen)
    }
}
