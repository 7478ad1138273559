//! The live control endpoint under `/_sim/`: faults, request log, counters and webhook deliveries,
//! so a process outside the simulator can flip faults and read what happened. Not part of Jira.

use axum::Router;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::faults::FaultConfig;
use super::server::{App, Body, json, no_content};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/_sim/info", get(info))
        .route(
            "/_sim/faults",
            get(get_faults)
                .put(put_faults)
                .post(post_faults)
                .delete(clear_faults),
        )
        .route("/_sim/log", get(log).delete(clear_log))
        .route("/_sim/counters", get(counters))
        .route("/_sim/deliveries", get(deliveries).delete(clear_deliveries))
}

async fn info(AxState(app): AxState<App>) -> Response {
    let st = app.lock();
    json(
        StatusCode::OK,
        json!({
            "flavour": app.flavour,
            "baseUrl": st.base_url,
            "issues": st.issues.len(),
            "requests": app.log.total(),
            "uptimeMs": app.started.elapsed().as_millis() as u64,
        }),
    )
}

async fn get_faults(AxState(app): AxState<App>) -> Response {
    json(
        StatusCode::OK,
        serde_json::to_value(app.faults.get()).unwrap_or(Value::Null),
    )
}

/// Replaces the faults with a JSON `FaultConfig` (missing keys = off).
async fn put_faults(AxState(app): AxState<App>, Body(b): Body) -> Result<Response, ApiError> {
    let cfg: FaultConfig = serde_json::from_value(b)
        .map_err(|e| ApiError::bad_request(format!("Invalid fault config: {e}")))?;
    app.faults.set(cfg.clone());
    Ok(json(
        StatusCode::OK,
        serde_json::to_value(cfg).unwrap_or(Value::Null),
    ))
}

/// Replaces the faults with a spec string: `{"spec": "rate-limit,error-next=2"}`.
async fn post_faults(AxState(app): AxState<App>, Body(b): Body) -> Result<Response, ApiError> {
    let spec = b
        .get("spec")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("Expected {\"spec\": \"...\"}."))?;
    let cfg = FaultConfig::parse(spec).map_err(|e| ApiError::bad_request(e.to_string()))?;
    app.faults.set(cfg.clone());
    Ok(json(
        StatusCode::OK,
        serde_json::to_value(cfg).unwrap_or(Value::Null),
    ))
}

async fn clear_faults(AxState(app): AxState<App>) -> Response {
    app.faults.set(FaultConfig::default());
    no_content()
}

async fn log(AxState(app): AxState<App>) -> Response {
    json(
        StatusCode::OK,
        serde_json::to_value(app.log.entries()).unwrap_or(Value::Null),
    )
}

async fn clear_log(AxState(app): AxState<App>) -> Response {
    app.log.clear();
    no_content()
}

async fn counters(AxState(app): AxState<App>) -> Response {
    json(
        StatusCode::OK,
        serde_json::to_value(app.log.counters()).unwrap_or(Value::Null),
    )
}

async fn deliveries(AxState(app): AxState<App>) -> Response {
    json(
        StatusCode::OK,
        serde_json::to_value(app.webhooks.deliveries()).unwrap_or(Value::Null),
    )
}

async fn clear_deliveries(AxState(app): AxState<App>) -> Response {
    app.webhooks.clear();
    no_content()
}
