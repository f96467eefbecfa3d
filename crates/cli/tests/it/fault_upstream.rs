//! A third-party API stand-in that misbehaves on cue: scripted status
//! sequences with `Retry-After`, delays, and a log of what reached it.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::Request,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::any,
};

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub delay: Duration,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self { status, retry_after: None, delay: Duration::ZERO }
    }
}

/// A request as the upstream saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub at: Instant,
}

#[derive(Default)]
struct Shared {
    scripts: Mutex<HashMap<String, VecDeque<Answer>>>,
    defaults: Mutex<HashMap<String, Answer>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Handle on a running fault-injecting upstream.
#[derive(Clone)]
pub struct FaultUpstream {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultUpstream {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts on `port` (0 for any free port).
    pub async fn start_on(port: u16) -> Self {
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let app = Router::new().fallback(any(move |request: Request| {
            let s = s.clone();
            async move { answer(&s, request).await }
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, shared }
    }

    /// The next answers for `path`, in order.
    pub fn script(&self, path: &str, answers: impl IntoIterator<Item = Answer>) {
        self.shared.scripts.lock().unwrap().entry(path.to_owned()).or_default().extend(answers);
    }

    /// The answer for `path` once its script is used up (200 otherwise).
    pub fn default_answer(&self, path: &str, answer: Answer) {
        self.shared.defaults.lock().unwrap().insert(path.to_owned(), answer);
    }

    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }

    /// Every request seen, on any path.
    pub fn all_seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn answer(s: &Shared, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    s.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        headers: request.headers().clone(),
        at: Instant::now(),
    });
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let scripted = s.scripts.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front);
    let answer = scripted
        .or_else(|| s.defaults.lock().unwrap().get(&path).cloned())
        .unwrap_or_else(|| Answer::status(200));
    tokio::time::sleep(answer.delay).await;
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    let status = StatusCode::from_u16(answer.status).unwrap();
    let mut response = (status, format!("upstream answered {}", answer.status)).into_response();
    if let Some(ra) = answer.retry_after {
        response.headers_mut().insert("retry-after", ra.parse().unwrap());
    }
    response
}
