//! Instance metadata endpoints: serverInfo, myself, projects, issue types, priorities, statuses,
//! resolutions, fields, create/edit metadata, link types and user search.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};

use super::error::ApiError;
use super::fields;
use super::model::{Api, Flavour, Project, UserId};
use super::render;
use super::server::{App, Ctx, Dialect, Params, json};
use super::state::State;

pub fn routes(flavour: Flavour) -> Router<App> {
    let r = Router::new()
        .route("/serverInfo", get(server_info))
        .route("/myself", get(myself))
        .route("/project", get(projects))
        .route("/project/{key}", get(project))
        .route("/project/{key}/statuses", get(project_statuses))
        .route("/project/{key}/components", get(project_components))
        .route("/project/{key}/versions", get(project_versions))
        .route("/version", axum::routing::post(create_version))
        .route("/version/{id}", get(version))
        .route("/issuetype", get(issue_types))
        .route("/issuetype/{id}", get(issue_type))
        .route("/priority", get(priorities))
        .route("/priority/{id}", get(priority))
        .route("/status", get(statuses))
        .route("/status/{id}", get(status))
        .route("/statuscategory", get(status_categories))
        .route("/resolution", get(resolutions))
        .route("/resolution/{id}", get(resolution))
        .route("/field", get(fields))
        .route("/issue/createmeta/{key}/issuetypes", get(createmeta_types))
        .route(
            "/issue/createmeta/{key}/issuetypes/{type_id}",
            get(createmeta_fields),
        )
        .route("/issueLinkType", get(link_types))
        .route("/issueLinkType/{id}", get(link_type))
        .route("/attachment/meta", get(attachment_meta))
        .route("/user", get(user))
        .route("/user/search", get(user_search))
        .route("/user/assignable/search", get(assignable_search));
    match flavour {
        Flavour::Cloud => r
            .route("/project/search", get(project_search))
            .route("/users/search", get(all_users))
            .route("/issue/createmeta", get(createmeta_legacy)),
        Flavour::DataCenter => r,
    }
}

async fn server_info(
    Dialect(api): Dialect,
    axum::extract::State(app): axum::extract::State<App>,
) -> Response {
    let base = app.lock().base_url.clone();
    let now = render::time(&Utc::now());
    let v = match api.flavour {
        Flavour::Cloud => json!({
            "baseUrl": base, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud", "buildNumber": 100289, "buildDate": "2026-01-05T00:00:00.000+0000",
            "serverTime": now, "scmInfo": "twinsync-sim", "serverTitle": "Jira",
        }),
        Flavour::DataCenter => json!({
            "baseUrl": base, "version": "10.3.4", "versionNumbers": [10, 3, 4],
            "deploymentType": "Server", "buildNumber": 10030004, "buildDate": "2025-02-20T00:00:00.000+0000",
            "serverTime": now, "scmInfo": "twinsync-sim", "serverTitle": "Jira",
        }),
    };
    json(StatusCode::OK, v)
}

async fn myself(c: Ctx) -> Response {
    let st = c.app.lock();
    json(StatusCode::OK, render::myself(&st, c.api, c.user))
}

fn find_project<'a>(st: &'a State, key: &str) -> Result<&'a Project, ApiError> {
    st.find_project(key)
        .ok_or_else(|| ApiError::not_found(format!("No project could be found with key '{key}'.")))
}

async fn projects(c: Ctx) -> Response {
    let st = c.app.lock();
    let v: Vec<Value> = st
        .projects
        .iter()
        .map(|p| render::project_full(&st, c.api, p))
        .collect();
    json(StatusCode::OK, Value::from(v))
}

async fn project_search(c: Ctx, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 50)?.clamp(1, 100);
    let needle = q.get("query").unwrap_or("").to_lowercase();
    let keys: Vec<&str> = q.all("keys").flat_map(|k| k.split(',')).collect();
    let matching: Vec<&Project> = st
        .projects
        .iter()
        .filter(|p| {
            needle.is_empty()
                || p.key.to_lowercase().contains(&needle)
                || p.name.to_lowercase().contains(&needle)
        })
        .filter(|p| {
            keys.is_empty()
                || keys
                    .iter()
                    .any(|k| p.key.eq_ignore_ascii_case(k) || p.id == *k)
        })
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max)
        .map(|p| render::project_full(&st, c.api, p))
        .collect();
    let base = render::api_base(&st, c.api);
    let mut v = json!({
        "self": format!("{base}/project/search?startAt={start}&maxResults={max}"),
        "maxResults": max, "startAt": start, "total": total, "isLast": start + max >= total, "values": page,
    });
    if start + max < total {
        v["nextPage"] = json!(format!(
            "{base}/project/search?startAt={}&maxResults={max}",
            start + max
        ));
    }
    Ok(json(StatusCode::OK, v))
}

async fn project(c: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let p = find_project(&st, &key)?;
    Ok(json(StatusCode::OK, render::project_full(&st, c.api, p)))
}

async fn project_statuses(c: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let p = find_project(&st, &key)?;
    let wf = st.workflow_of(&p.id);
    let mut ids: Vec<String> = Vec::new();
    if let Some(wf) = wf {
        ids.push(wf.initial.clone());
        for t in &wf.transitions {
            for s in t.from.iter().chain(std::iter::once(&t.to)) {
                if !ids.contains(s) {
                    ids.push(s.clone());
                }
            }
        }
    }
    let base = render::api_base(&st, c.api);
    let v: Vec<Value> = p
        .issue_types
        .iter()
        .filter_map(|t| st.issue_types.iter().find(|x| &x.id == t))
        .map(|t| {
            json!({
                "self": format!("{base}/issuetype/{}", t.id), "id": t.id, "name": t.name, "subtask": t.subtask,
                "statuses": ids.iter().map(|s| render::status(&st, c.api, s)).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json(StatusCode::OK, Value::from(v)))
}

async fn project_versions(c: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let p = st.find_project(&key).ok_or_else(|| {
        ApiError::not_found(format!("No project could be found with key '{key}'."))
    })?;
    let list: Vec<Value> = st
        .versions_of(&p.id)
        .into_iter()
        .map(|v| render::version(&st, c.api, v))
        .collect();
    Ok(json(StatusCode::OK, Value::from(list)))
}

async fn create_version(
    c: Ctx,
    super::server::Body(body): super::server::Body,
) -> Result<Response, ApiError> {
    let v = c.app.mutate(|st| {
        let id = st.add_version(&body)?;
        let v = st
            .version(&id)
            .ok_or_else(|| ApiError::not_found("version"))?;
        Ok(render::version(st, c.api, v))
    })?;
    Ok(json(StatusCode::CREATED, v))
}

async fn version(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let v = st
        .version(&id)
        .ok_or_else(|| ApiError::not_found(format!("Could not find version for id '{id}'")))?;
    Ok(json(StatusCode::OK, render::version(&st, c.api, v)))
}

async fn project_components(c: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let p = find_project(&st, &key)?;
    let v: Vec<Value> = p
        .components
        .iter()
        .map(|x| render::component(&st, c.api, p, x))
        .collect();
    Ok(json(StatusCode::OK, Value::from(v)))
}

async fn issue_types(c: Ctx) -> Response {
    let st = c.app.lock();
    let v: Vec<Value> = st
        .issue_types
        .iter()
        .map(|t| render::issue_type(&st, c.api, &t.id))
        .collect();
    json(StatusCode::OK, Value::from(v))
}

async fn issue_type(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let v = render::issue_type(&st, c.api, &id);
    if v.is_null() {
        return Err(ApiError::not_found(
            "The issue type ID is invalid or you do not have permission to access it.",
        ));
    }
    Ok(json(StatusCode::OK, v))
}

async fn priorities(c: Ctx) -> Response {
    let st = c.app.lock();
    let v: Vec<Value> = st
        .priorities
        .iter()
        .map(|p| render::priority_full(&st, c.api, p))
        .collect();
    json(StatusCode::OK, Value::from(v))
}

async fn priority(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let p = st
        .priorities
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::not_found(format!("Cannot find priority with id: {id}")))?;
    Ok(json(StatusCode::OK, render::priority_full(&st, c.api, p)))
}

async fn statuses(c: Ctx) -> Response {
    let st = c.app.lock();
    let v: Vec<Value> = st
        .statuses
        .iter()
        .map(|s| render::status(&st, c.api, &s.id))
        .collect();
    json(StatusCode::OK, Value::from(v))
}

async fn status(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let s = st
        .statuses
        .iter()
        .find(|s| s.id == id || s.name.eq_ignore_ascii_case(&id))
        .ok_or_else(|| ApiError::not_found(format!("The status with id '{id}' does not exist")))?;
    Ok(json(StatusCode::OK, render::status(&st, c.api, &s.id)))
}

async fn status_categories(c: Ctx) -> Response {
    use super::model::StatusCategory::*;
    let st = c.app.lock();
    let v: Vec<Value> = [New, Indeterminate, Done]
        .into_iter()
        .map(|x| render::status_category(&st, c.api, x))
        .collect();
    json(StatusCode::OK, Value::from(v))
}

async fn resolutions(c: Ctx) -> Response {
    let st = c.app.lock();
    let v: Vec<Value> = st
        .resolutions
        .iter()
        .map(|r| render::resolution(&st, c.api, &r.id))
        .collect();
    json(StatusCode::OK, Value::from(v))
}

async fn resolution(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let v = render::resolution(&st, c.api, &id);
    if v.is_null() {
        return Err(ApiError::not_found(format!(
            "The resolution with ID '{id}' does not exist."
        )));
    }
    Ok(json(StatusCode::OK, v))
}

async fn fields(c: Ctx) -> Response {
    let st = c.app.lock();
    let v: Vec<Value> = fields::field_defs(&st)
        .iter()
        .map(|d| render::field(&st, c.api, d))
        .collect();
    json(StatusCode::OK, Value::from(v))
}

fn createmeta_type(st: &State, api: Api, p: &Project, type_id: &str, with_fields: bool) -> Value {
    let mut v = render::issue_type(st, api, type_id);
    if let (true, Some(t)) = (with_fields, st.issue_types.iter().find(|t| t.id == type_id)) {
        {
            let mut m = serde_json::Map::new();
            for (d, req) in fields::create_fields(st, t) {
                m.insert(
                    d.id.clone(),
                    render::field_meta_for(st, api, &d, req, false, Some(p)),
                );
            }
            v["fields"] = Value::Object(m);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("avatarId");
        o.insert("avatarId".into(), json!(10300));
    }
    v
}

async fn createmeta_types(
    c: Ctx,
    Path(key): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let p = find_project(&st, &key)?;
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 50)?.max(1);
    let total = p.issue_types.len();
    let page: Vec<Value> = p
        .issue_types
        .iter()
        .skip(start)
        .take(max)
        .map(|t| createmeta_type(&st, c.api, p, t, false))
        .collect();
    let v = match c.api.flavour {
        Flavour::Cloud => {
            json!({"issueTypes": page, "maxResults": max, "startAt": start, "total": total})
        }
        Flavour::DataCenter => {
            json!({"values": page, "maxResults": max, "startAt": start, "total": total, "isLast": start + max >= total})
        }
    };
    Ok(json(StatusCode::OK, v))
}

async fn createmeta_fields(
    c: Ctx,
    Path((key, type_id)): Path<(String, String)>,
    q: Params,
) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let p = find_project(&st, &key)?;
    let t = st
        .issue_types
        .iter()
        .find(|t| t.id == type_id && p.issue_types.contains(&t.id))
        .ok_or_else(|| ApiError::not_found("Issue type with given ID does not exist or you do not have permission to access it."))?;
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 50)?.max(1);
    let all = fields::create_fields(&st, t);
    let total = all.len();
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|(d, req)| render::field_meta_for(&st, c.api, d, *req, true, Some(p)))
        .collect();
    let v = match c.api.flavour {
        Flavour::Cloud => {
            json!({"fields": page, "maxResults": max, "startAt": start, "total": total})
        }
        Flavour::DataCenter => {
            json!({"values": page, "maxResults": max, "startAt": start, "total": total, "isLast": start + max >= total})
        }
    };
    Ok(json(StatusCode::OK, v))
}

async fn createmeta_legacy(c: Ctx, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let keys: Vec<&str> = q
        .all("projectKeys")
        .chain(q.all("projectIds"))
        .flat_map(|k| k.split(','))
        .filter(|k| !k.is_empty())
        .collect();
    let expand_fields = q
        .all("expand")
        .any(|e| e.contains("projects.issuetypes.fields"));
    let base = render::api_base(&st, c.api);
    let projects: Vec<Value> = st
        .projects
        .iter()
        .filter(|p| keys.is_empty() || keys.iter().any(|k| p.key.eq_ignore_ascii_case(k) || p.id == *k))
        .map(|p| {
            let short = render::project_short(&st, c.api, &p.id);
            json!({
                "self": format!("{base}/project/{}", p.id), "id": p.id, "key": p.key, "name": p.name,
                "avatarUrls": short["avatarUrls"],
                "issuetypes": p.issue_types.iter().map(|t| {
                    let mut v = createmeta_type(&st, c.api, p, t, expand_fields);
                    if let Some(o) = v.as_object_mut() { o.remove("hierarchyLevel"); }
                    v
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        json!({"expand": "projects", "projects": projects}),
    ))
}

async fn link_types(c: Ctx) -> Response {
    let st = c.app.lock();
    let v: Vec<Value> = st
        .link_types
        .iter()
        .map(|t| render::link_type(&st, c.api, t))
        .collect();
    json(StatusCode::OK, json!({"issueLinkTypes": v}))
}

async fn link_type(c: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let t =
        st.link_types.iter().find(|t| t.id == id).ok_or_else(|| {
            ApiError::not_found(format!("No issue link type with id '{id}' exists."))
        })?;
    Ok(json(StatusCode::OK, render::link_type(&st, c.api, t)))
}

async fn attachment_meta(c: Ctx) -> Response {
    let _ = c.user;
    json(
        StatusCode::OK,
        json!({"enabled": true, "uploadLimit": super::routes_attachment::UPLOAD_LIMIT}),
    )
}

fn user_missing(api: Api, who: &str) -> ApiError {
    match api.flavour {
        Flavour::Cloud => ApiError::not_found(
            "Specified user does not exist or you do not have required permissions",
        ),
        Flavour::DataCenter => {
            ApiError::not_found(format!("The user named '{who}' does not exist"))
        }
    }
}

async fn user(c: Ctx, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let found = match c.api.flavour {
        Flavour::Cloud => q
            .get("accountId")
            .map(|a| (a, st.users.iter().position(|u| u.account_id == a))),
        Flavour::DataCenter => q
            .get("username")
            .map(|n| (n, st.users.iter().position(|u| u.name == n)))
            .or_else(|| {
                q.get("key")
                    .map(|k| (k, st.users.iter().position(|u| u.key == k)))
            }),
    };
    match found {
        Some((_, Some(u))) => Ok(json(StatusCode::OK, render::user(&st, c.api, u))),
        Some((who, None)) => Err(user_missing(c.api, who)),
        None => Err(ApiError::bad_request(match c.api.flavour {
            Flavour::Cloud => "The 'accountId' query parameter needs to be provided",
            Flavour::DataCenter => {
                "Either the 'username' or the 'key' query parameters need to be provided"
            }
        })),
    }
}

fn search_users(st: &State, q: &Params, api: Api) -> Result<Vec<UserId>, ApiError> {
    let needle = match api.flavour {
        Flavour::Cloud => q.get("query").or_else(|| q.get("accountId")),
        Flavour::DataCenter => q.get("username").or_else(|| q.get("query")),
    };
    let Some(needle) = needle else {
        return Err(ApiError::bad_request(match api.flavour {
            Flavour::Cloud => "One of 'query' or 'accountId' query parameters must be provided.",
            Flavour::DataCenter => "The username query parameter was not provided",
        }));
    };
    let n = needle.to_lowercase();
    let any = n.is_empty() || n == "." || n == "*";
    Ok(st
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            any || u.account_id == needle
                || u.email.to_lowercase().starts_with(&n)
                || u.name.to_lowercase().starts_with(&n)
                || u.display_name
                    .to_lowercase()
                    .split_whitespace()
                    .any(|w| w.starts_with(&n))
                || u.display_name.to_lowercase().starts_with(&n)
        })
        .map(|(i, _)| i)
        .collect())
}

fn page_users(st: &State, api: Api, q: &Params, ids: Vec<UserId>) -> Result<Response, ApiError> {
    let start = q.num("startAt", 0)?;
    let max = q.num("maxResults", 50)?.min(1000);
    let v: Vec<Value> = ids
        .into_iter()
        .skip(start)
        .take(max)
        .map(|u| render::user(st, api, u))
        .collect();
    Ok(json(StatusCode::OK, Value::from(v)))
}

async fn user_search(c: Ctx, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let ids = search_users(&st, &q, c.api)?;
    page_users(&st, c.api, &q, ids)
}

async fn assignable_search(c: Ctx, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    if let Some(k) = q.get("issueKey") {
        st.issue_ref(k)?;
    } else if let Some(p) = q.get("project") {
        find_project(&st, p)?;
    } else {
        return Err(ApiError::bad_request(
            "A project or issue key must be provided",
        ));
    }
    let ids = if q.get("query").is_some()
        || q.get("username").is_some()
        || q.get("accountId").is_some()
    {
        search_users(&st, &q, c.api)?
    } else {
        (0..st.users.len()).collect()
    };
    let ids = ids
        .into_iter()
        .filter(|u| st.users.get(*u).is_some_and(|x| x.active))
        .collect();
    page_users(&st, c.api, &q, ids)
}

async fn all_users(c: Ctx, q: Params) -> Result<Response, ApiError> {
    let st = c.app.lock();
    let ids = (0..st.users.len()).collect();
    page_users(&st, c.api, &q, ids)
}
