//! The policies as tower layers, for Rust programs that call HTTP APIs
//! in-process: `ServiceBuilder::new().layer(BulkheadLayer::new(..))
//! .layer(BreakerLayer::new(..)).layer(RateLimitLayer::new(..)).service(client)`.
//!
//! Refusals are errors ([`Open`], [`RateLimited`], [`Full`]) boxed as
//! `tower::BoxError`, so callers downcast to tell them from transport errors.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use tower::{BoxError, Layer, Service};

use crate::{Breaker, Bulkhead, Full, Open, RateLimited, RateLimiter};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl fmt::Display for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the circuit breaker is open; retry in {:?}", self.retry_after)
    }
}
impl std::error::Error for Open {}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "over the rate limit; retry in {:?}", self.retry_after)
    }
}
impl std::error::Error for RateLimited {}

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("too many calls in flight")
    }
}
impl std::error::Error for Full {}

/// Refuses calls while the breaker is open; records each outcome (errors
/// and 5xx answers are failures).
#[derive(Debug, Clone)]
pub struct BreakerLayer(Arc<Breaker>);

impl BreakerLayer {
    /// A layer sharing `breaker`.
    pub fn new(breaker: Arc<Breaker>) -> Self {
        Self(breaker)
    }
}

impl<S> Layer<S> for BreakerLayer {
    type Service = BreakerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        BreakerService { inner, breaker: self.0.clone() }
    }
}

/// The service of [`BreakerLayer`].
#[derive(Debug, Clone)]
pub struct BreakerService<S> {
    inner: S,
    breaker: Arc<Breaker>,
}

impl<S, B, R> Service<http::Request<B>> for BreakerService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let permit = match self.breaker.acquire() {
            Ok(permit) => permit,
            Err(open) => return Box::pin(async move { Err(open.into()) }),
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await.map_err(Into::into);
            permit.record(result.as_ref().map_or(true, |r| r.status().is_server_error()));
            result
        })
    }
}

/// Waits up to `max_wait` for a rate-limit turn, or refuses with [`RateLimited`].
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<RateLimiter>,
    max_wait: Duration,
}

impl RateLimitLayer {
    /// A layer sharing `limiter`.
    pub fn new(limiter: Arc<RateLimiter>, max_wait: Duration) -> Self {
        Self { limiter, max_wait }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService { inner, limiter: self.limiter.clone(), max_wait: self.max_wait }
    }
}

/// The service of [`RateLimitLayer`].
#[derive(Debug, Clone)]
pub struct RateLimitService<S> {
    inner: S,
    limiter: Arc<RateLimiter>,
    max_wait: Duration,
}

impl<S, Req> Service<Req> for RateLimitService<S>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        // The ready inner service is taken for this call; a clone stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (limiter, max_wait) = (self.limiter.clone(), self.max_wait);
        Box::pin(async move {
            limiter.acquire(max_wait).await?;
            inner.call(request).await.map_err(Into::into)
        })
    }
}

/// Refuses a call at once when `max` are in flight.
#[derive(Debug, Clone)]
pub struct BulkheadLayer(Bulkhead);

impl BulkheadLayer {
    /// A layer sharing `bulkhead`.
    pub fn new(bulkhead: Bulkhead) -> Self {
        Self(bulkhead)
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = BulkheadService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        BulkheadService { inner, bulkhead: self.0.clone() }
    }
}

/// The service of [`BulkheadLayer`].
#[derive(Debug, Clone)]
pub struct BulkheadService<S> {
    inner: S,
    bulkhead: Bulkhead,
}

impl<S, Req> Service<Req> for BulkheadService<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let slot = match self.bulkhead.try_acquire() {
            Ok(slot) => slot,
            Err(full) => return Box::pin(async move { Err(full.into()) }),
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await.map_err(Into::into);
            drop(slot);
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{ServiceBuilder, ServiceExt, service_fn};

    use super::*;
    use crate::BreakerConfig;

    fn answering(
        status: u16,
    ) -> impl Service<http::Request<()>, Response = http::Response<()>, Error = Infallible, Future: Send> + Clone
    {
        service_fn(move |_: http::Request<()>| async move {
            Ok::<_, Infallible>(http::Response::builder().status(status).body(()).unwrap())
        })
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_layer_opens_on_5xx() {
        let breaker = Breaker::new(BreakerConfig {
            failure_rate: 0.5,
            min_calls: 2,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(5),
        });
        let service = ServiceBuilder::new().layer(BreakerLayer::new(breaker.clone())).service(answering(503));
        for _ in 0..2 {
            let response = service.clone().oneshot(http::Request::new(())).await.unwrap();
            assert_eq!(response.status(), 503);
        }
        let refused = service.clone().oneshot(http::Request::new(())).await.unwrap_err();
        assert!(refused.downcast_ref::<Open>().is_some());
    }

    #[tokio::test]
    async fn the_rate_limit_and_bulkhead_layers_refuse_with_typed_errors() {
        let limiter = Arc::new(RateLimiter::new(1, Duration::from_secs(60)));
        let service =
            ServiceBuilder::new().layer(RateLimitLayer::new(limiter, Duration::ZERO)).service(answering(200));
        assert!(service.clone().oneshot(http::Request::new(())).await.is_ok());
        let refused = service.clone().oneshot(http::Request::new(())).await.unwrap_err();
        assert!(refused.downcast_ref::<RateLimited>().is_some());

        let bulkhead = Bulkhead::new(1);
        let _held = bulkhead.try_acquire().unwrap();
        let service = ServiceBuilder::new().layer(BulkheadLayer::new(bulkhead)).service(answering(200));
        let refused = service.oneshot(http::Request::new(())).await.unwrap_err();
        assert!(refused.downcast_ref::<Full>().is_some());
    }
}
