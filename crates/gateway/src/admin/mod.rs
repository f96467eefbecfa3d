//! The `/v1` management API. Today: inbound events (inspect and replay),
//! behind bearer keys from `[admin] api_keys`.

mod auth;
mod events;

use axum::{
    Router, middleware,
    routing::{get, post},
};

use crate::state::AppState;

/// The `/v1` routes, each behind [`auth::require_key`].
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/events/{id}", get(events::get))
        .route("/v1/events/{id}/replay", post(events::replay))
        .route_layer(middleware::from_fn_with_state(state, auth::require_key))
}
