//! The `/v1` management API. Today: inbound events (inspect, replay) and
//! queued calls (list, inspect, retry), behind bearer keys from `[admin] api_keys`.

mod audit;
mod auth;
mod deliveries;
mod events;

use axum::{
    Router, middleware,
    routing::{get, post},
};

use crate::state::AppState;

/// The `/v1` routes, each behind [`auth::require_key`].
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/audit", get(audit::list))
        .route("/v1/deliveries", get(deliveries::list))
        .route("/v1/deliveries/{id}", get(deliveries::get))
        .route("/v1/deliveries/{id}/retry", post(deliveries::retry))
        .route("/v1/events/{id}", get(events::get))
        .route("/v1/events/{id}/replay", post(events::replay))
        .route_layer(middleware::from_fn_with_state(state, auth::require_key))
}
