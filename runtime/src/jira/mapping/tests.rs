//! The mapping read and written against hand-made Jira answers of both flavours.

use serde_json::{Value, json};

use super::*;
use crate::jira::flavour::Flavour;
use crate::jira::richtext::NoUserMapping;
use crate::model::{Changes, CustomFieldChange, RichText, UserRef, Value as FieldValue};

fn cloud_issue() -> Value {
    json!({
        "id": "10001", "key": "ED-1",
        "names": {"customfield_10010": "Team", "customfield_10011": "Story points"},
        "schema": {"customfield_10010": {"type": "option"}, "customfield_10011": {"type": "number"}},
        "fields": {
            "project": {"key": "ED"}, "issuetype": {"name": "Bug"}, "summary": "Crash",
            "description": {"version": 1, "type": "doc", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "It ", "marks": []}, {"type": "text", "text": "breaks", "marks": [{"type": "strong"}]}]}]},
            "status": {"name": "To Do"}, "priority": {"name": "High"},
            "labels": ["a", "b"], "components": [{"id": "1", "name": "Core"}],
            "assignee": {"accountId": "5b10a", "displayName": "Mia", "emailAddress": "mia@x.io"},
            "reporter": null, "duedate": "2026-01-02", "parent": {"key": "ED-0"},
            "comment": {"comments": [
                {"id": "2", "body": {"version": 1, "type": "doc", "content": []}, "created": "2026-01-02T00:00:00.000+0000", "updated": "2026-01-02T00:00:00.000+0000", "jsdPublic": false},
                {"id": "1", "body": {"version": 1, "type": "doc", "content": []}, "created": "2026-01-01T00:00:00.000+0000", "updated": "2026-01-01T00:00:00.000+0000", "jsdPublic": true}
            ], "total": 2, "maxResults": 2, "startAt": 0},
            "attachment": [{"id": "10000", "filename": "a.txt", "mimeType": "text/plain", "size": 3, "created": "2026-01-01T00:00:00.000+0000"}],
            "customfield_10010": {"value": "Blue", "id": "100"},
            "customfield_10011": 5,
            "customfield_10012": null,
            "created": "2026-01-01T00:00:00.000+0000", "updated": "2026-01-03T00:00:00.000+0000"
        }
    })
}

#[test]
fn cloud_issue_maps_to_the_model() {
    let i = issue_from_json(&cloud_issue()).unwrap();
    assert_eq!(
        (i.key.as_str(), i.project.as_str(), i.issue_type.as_str()),
        ("ED-1", "ED", "Bug")
    );
    let d = i.description.unwrap();
    assert_eq!(d.text, "It breaks");
    assert!(d.adf.unwrap().contains("strong"));
    assert_eq!(i.assignee.unwrap().account_id.as_deref(), Some("5b10a"));
    assert_eq!(i.components, vec!["Core"]);
    assert_eq!(i.comments[0].id, "1");
    assert!(i.comments[1].internal && !i.comments[0].internal);
    assert_eq!(i.attachments[0].id, "10000");
    assert_eq!(i.custom_fields.len(), 2);
    assert_eq!(i.custom_fields[0].name, "Team");
    assert_eq!(
        i.custom_fields[0].value,
        Some(FieldValue::Choice("Blue".into()))
    );
    assert_eq!(i.custom_fields[1].value, Some(FieldValue::Number(5.0)));
    assert_eq!(i.parent.as_deref(), Some("ED-0"));
}

#[test]
fn dc_issue_maps_wiki_and_usernames() {
    let v = json!({"id": "1", "key": "OPS-1", "fields": {
        "summary": "S", "description": "h1. Title\n*bold*",
        "assignee": {"name": "bob", "key": "JIRAUSER1", "displayName": "Bob"},
        "comment": {"comments": [{"id": "5", "body": "hi", "created": "2026-01-01T00:00:00.000+0000", "updated": "2026-01-01T00:00:00.000+0000",
            "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]}], "total": 1},
        "customfield_1": [{"name": "bob", "displayName": "Bob"}],
    }});
    let i = issue_from_json(&v).unwrap();
    let d = i.description.unwrap();
    assert_eq!(d.wiki.as_deref(), Some("h1. Title\n*bold*"));
    assert_eq!(d.text, "Title\n\nbold");
    assert_eq!(i.assignee.unwrap().name.as_deref(), Some("bob"));
    assert!(i.comments[0].internal);
    assert!(matches!(
        i.custom_fields[0].value,
        Some(FieldValue::Users(_))
    ));
}

#[test]
fn changes_become_edit_bodies_per_flavour() {
    let changes = Changes {
        summary: Some("New".into()),
        description: Some(RichText {
            text: "x".into(),
            adf: None,
            wiki: Some("*x*".into()),
        }),
        assignee: Some(Some(UserRef::Email("mia@x.io".into()))),
        due_date: Some(None),
        labels: Some(vec!["l".into()]),
        custom_fields: vec![CustomFieldChange {
            field: "Team".into(),
            value: Some(FieldValue::Choice("Red".into())),
        }],
        ..Changes::default()
    };
    let mut people = ResolvedUsers::new();
    people.insert(UserRef::Email("mia@x.io".into()), "5b10a".into());
    let fields = FieldCatalog {
        fields: vec![("customfield_10010".into(), "Team".into())],
        string_lists: Vec::new(),
    };
    let cx = WriteContext {
        flavour: Flavour::Cloud,
        users: &NoUserMapping,
        people: &people,
        fields: &fields,
    };
    let body = edit_request(&changes, &cx).unwrap();
    assert_eq!(body["fields"]["assignee"], json!({"accountId": "5b10a"}));
    assert_eq!(body["fields"]["duedate"], Value::Null);
    assert_eq!(body["fields"]["description"]["type"], "doc");
    assert_eq!(body["fields"]["customfield_10010"], json!({"value": "Red"}));
    let dc = WriteContext {
        flavour: Flavour::DataCenter,
        ..cx
    };
    let body = edit_request(&changes, &dc).unwrap();
    assert_eq!(body["fields"]["description"], json!("*x*"));
    assert_eq!(body["fields"]["assignee"], json!({"name": "5b10a"}));
    // Unknown people and fields are errors, not silent drops.
    let nobody = ResolvedUsers::new();
    let cx2 = WriteContext {
        people: &nobody,
        ..dc
    };
    assert!(matches!(
        edit_request(&changes, &cx2),
        Err(MappingError::UnknownUser(_))
    ));
    let create = create_request(&changes, Some("ED"), Some("Task"), &cx).unwrap();
    assert_eq!(create["fields"]["project"], json!({"key": "ED"}));
}

#[test]
fn an_issue_without_its_key_is_refused_naming_the_field() {
    let mut v = cloud_issue();
    v.as_object_mut().unwrap().remove("key");
    let e = issue_from_json(&v).unwrap_err();
    assert_eq!(e.to_string(), "issue 10001: missing field `key`");
}

#[test]
fn a_comment_without_its_id_names_the_issue_and_the_comment() {
    let mut v = cloud_issue();
    v["fields"]["comment"]["comments"][1]
        .as_object_mut()
        .unwrap()
        .remove("id");
    let e = issue_from_json(&v).unwrap_err();
    assert_eq!(e.path, "fields.comment.comments[1]");
    assert_eq!(
        e.to_string(),
        "issue ED-1: fields.comment.comments[1]: missing field `id`"
    );
}

#[test]
fn a_field_of_the_wrong_type_is_refused_naming_it() {
    let mut v = cloud_issue();
    v["fields"]["status"] = json!({"name": 3});
    let e = issue_from_json(&v).unwrap_err();
    assert_eq!(e.path, "fields.status.name");
    assert!(
        e.to_string()
            .starts_with("issue ED-1: fields.status.name: invalid type: integer `3`"),
        "{e}"
    );
}

#[test]
fn fields_a_call_did_not_ask_for_read_as_empty() {
    let i =
        issue_from_json(&json!({"id": "1", "key": "ED-1", "fields": {"updated": "t"}})).unwrap();
    assert_eq!(
        (i.summary.as_str(), i.status.as_str(), i.updated.as_str()),
        ("", "", "t")
    );
    assert!(i.comments.is_empty() && i.custom_fields.is_empty());
}
