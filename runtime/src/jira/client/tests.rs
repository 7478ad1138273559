//! The client against canned HTTP answers: an answer missing a field Jira always sends is a
//! shape error naming the call, the resource and the field, never a value with an empty id.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::super::error::JiraError;
use super::super::flavour::{Auth, Flavour};
use super::{ClientConfig, JiraClient};

/// Serves one HTTP exchange with `body` as a 200 JSON answer; returns the base URL.
async fn answer_once(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        // One read holds the whole small request; the answer does not depend on it.
        let _ = sock.read(&mut buf).await.unwrap();
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(resp.as_bytes()).await.unwrap();
    });
    format!("http://{addr}")
}

fn client(base: &str) -> JiraClient {
    JiraClient::new(ClientConfig::new(
        "acme",
        base,
        Flavour::Cloud,
        Auth::cloud("a@b.c", "t"),
    ))
    .unwrap()
}

#[tokio::test]
async fn a_created_issue_without_a_key_is_a_shape_error() {
    let c = client(&answer_once(r#"{"id": "10001"}"#).await);
    let e = c
        .create_issue(serde_json::json!({"fields": {}}))
        .await
        .unwrap_err();
    assert!(matches!(e, JiraError::Shape { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "acme: POST /rest/api/3/issue -> 200: unexpected answer: created issue: missing field `key`"
    );
}

#[tokio::test]
async fn a_transition_with_a_numeric_id_names_the_field() {
    let c = client(
        &answer_once(
            r#"{"transitions": [{"id": 31, "name": "Done", "to": {"id": "3", "name": "Done"}}]}"#,
        )
        .await,
    );
    let e = c.transitions("ED-1").await.unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with(
            "acme: GET /rest/api/3/issue/ED-1/transitions -> 200: unexpected answer: \
             transitions of ED-1: transitions[0].id: invalid type: integer `31`"
        ),
        "{shown}"
    );
}

#[tokio::test]
async fn a_search_hit_without_its_fields_shape_names_the_issue() {
    let c = client(
        &answer_once(
            r#"{"issues": [{"id": "1", "key": "ED-1", "fields": {"status": {"id": "3"}}}]}"#,
        )
        .await,
    );
    let e = c
        .search_page("project = ED", "status", &super::PageCursor::Start, 10)
        .await
        .unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.ends_with("issue ED-1: fields.status: missing field `name`"),
        "{shown}"
    );
}
