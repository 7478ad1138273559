//! Every call of the Jira client against the simulator, in both flavours.

use super::{client, start_sim};
use twinsync::jira::client::UploadSource;
use twinsync::jira::mapping::{self, FieldCatalog, WriteContext};
use twinsync::jira::{Flavour, PageCursor, UserMap};
use twinsync::model::{Changes, RichText, UserRef};
use twinsync_jira_sim as sim;

fn sim_flavour(f: Flavour) -> sim::Flavour {
    match f {
        Flavour::Cloud => sim::Flavour::Cloud,
        Flavour::DataCenter => sim::Flavour::DataCenter,
    }
}

/// Every client call once, on one flavour.
async fn every_call(flavour: Flavour) {
    let h = start_sim(flavour).await;
    assert_eq!(h.flavour(), sim_flavour(flavour));
    let c = client(&h, flavour);

    let info = c.server_info().await.expect("serverInfo");
    assert!(!info.version.is_empty());
    let me = c.myself().await.expect("myself");
    assert!(me.ident(flavour).is_some());

    let fields = c.fields().await.expect("fields");
    assert!(fields.iter().any(|f| f.id == "summary"));
    let catalog: FieldCatalog = c.field_catalog().await.expect("catalog");
    let types = c
        .create_meta_issue_types("SUP")
        .await
        .expect("createmeta types");
    let task = types.iter().find(|t| t.name == "Task").expect("Task type");
    let meta = c.create_meta("SUP", &task.id).await.expect("createmeta");
    assert!(
        meta.iter().any(|m| m.id == "summary" && m.required),
        "{meta:?}"
    );

    // Users by email, by id, by name.
    let alice = c
        .user_by_email("alice@example.com")
        .await
        .expect("user search")
        .expect("alice");
    match flavour {
        Flavour::Cloud => {
            let id = alice.account_id.clone().expect("account id");
            let again = c
                .user_by_account_id(&id)
                .await
                .expect("by id")
                .expect("found");
            assert_eq!(again.display_name, alice.display_name);
        }
        Flavour::DataCenter => {
            let again = c
                .user_by_username("alice")
                .await
                .expect("by name")
                .expect("found");
            assert_eq!(again.name.as_deref(), Some("alice"));
        }
    }
    assert!(
        c.user_by_username("nobody-here")
            .await
            .expect("lookup")
            .is_none()
    );

    // Create with formatted text, given as wiki markup (as a DC side would send it).
    let desc = RichText {
        text: String::new(),
        adf: None,
        wiki: Some(
            "h2. Steps\n* open *the* page\n* click {{Save}}\n\n{code:rust}\nfn x() {}\n{code}"
                .into(),
        ),
    };
    let people = c
        .resolve_users(&[UserRef::Email("alice@example.com".into())])
        .await
        .expect("resolve");
    let users = UserMap::new();
    let cx = WriteContext {
        flavour,
        users: &users,
        people: &people,
        fields: &catalog,
    };
    let changes = Changes {
        summary: Some("Client e2e".into()),
        description: Some(desc),
        labels: Some(vec!["e2e".into()]),
        assignee: Some(Some(UserRef::Email("alice@example.com".into()))),
        priority: Some("High".into()),
        ..Changes::default()
    };
    let body = mapping::create_request(&changes, Some("SUP"), Some("Task"), &cx).expect("body");
    let created = c.create_issue(body).await.expect("create");
    let issue = c.get_issue(&created.key).await.expect("get");
    assert_eq!(issue.summary, "Client e2e");
    assert_eq!(issue.security_level, None);
    c.edit_issue(
        &created.key,
        serde_json::json!({"fields": {"security": {"name": "Confidential"}}}),
    )
    .await
    .expect("set the security level");
    let secured = c.get_issue(&created.key).await.expect("get");
    assert_eq!(secured.security_level.as_deref(), Some("Confidential"));
    let refused = c
        .edit_issue(
            &created.key,
            serde_json::json!({"fields": {"security": {"id": "999"}}}),
        )
        .await
        .expect_err("an unknown level is refused");
    assert!(refused.to_string().contains("security"), "{refused}");
    assert_eq!(issue.labels, vec!["e2e"]);
    assert_eq!(issue.priority.as_deref(), Some("High"));
    assert_eq!(
        issue.assignee.as_ref().and_then(|u| u.display_name.clone()),
        alice.display_name
    );
    let d = issue.description.expect("description");
    assert!(d.text.contains("open the page"), "{}", d.text);
    match flavour {
        // The wiki became ADF on the way into Cloud, with its structure.
        Flavour::Cloud => {
            let adf = d.adf.expect("adf");
            for node in [
                "heading",
                "bulletList",
                "codeBlock",
                "\"language\":\"rust\"",
                "strong",
                "code",
            ] {
                assert!(adf.contains(node), "{node} missing in {adf}");
            }
        }
        Flavour::DataCenter => {
            let wiki = d.wiki.expect("wiki");
            assert!(
                wiki.contains("{code:rust}") && wiki.contains("*the*"),
                "{wiki}"
            );
        }
    }

    // Edit.
    let edit = Changes {
        summary: Some("Client e2e, edited".into()),
        assignee: Some(None),
        ..Changes::default()
    };
    c.edit_issue(
        &created.key,
        mapping::edit_request(&edit, &cx).expect("edit body"),
    )
    .await
    .expect("edit");
    let issue = c.get_issue(&created.key).await.expect("get");
    assert_eq!(issue.summary, "Client e2e, edited");
    assert!(issue.assignee.is_none());
    let editmeta = c.edit_meta(&created.key).await.expect("editmeta");
    assert!(editmeta.iter().any(|f| f.id == "summary"));

    // Transitions.
    let ts = c.transitions(&created.key).await.expect("transitions");
    let t = ts
        .iter()
        .find(|t| t.to_status != issue.status)
        .expect("a transition");
    c.transition(&created.key, &t.id, None)
        .await
        .expect("transition");
    assert_eq!(
        c.get_issue(&created.key).await.expect("get").status,
        t.to_status
    );

    // Comments: add (internal), update, list, delete.
    let body = RichText::plain("First *note*");
    let added = c
        .add_comment(&created.key, &body, true, &users)
        .await
        .expect("comment");
    assert!(added.internal);
    assert_eq!(added.body.text, "First *note*");
    let public = c
        .add_comment(&created.key, &RichText::plain("Second"), false, &users)
        .await
        .expect("comment");
    assert!(!public.internal);
    let upd = c
        .update_comment(
            &created.key,
            &public.id,
            &RichText::plain("Second, edited"),
            false,
            &users,
        )
        .await
        .expect("update");
    assert_eq!(upd.body.text, "Second, edited");
    let all = c.comments(&created.key).await.expect("comments");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, added.id);
    assert!(all[0].internal && !all[1].internal);
    c.delete_comment(&created.key, &added.id)
        .await
        .expect("delete comment");
    assert_eq!(c.comments(&created.key).await.expect("comments").len(), 1);

    // Attachments: from memory and streamed from a file, downloaded back.
    let up = c
        .upload_attachment(
            &created.key,
            "notes.txt",
            "text/plain",
            UploadSource::Bytes("hello".into()),
        )
        .await
        .expect("upload");
    assert_eq!(up[0].filename, "notes.txt");
    assert_eq!(up[0].size, 5);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).expect("write");
    let up2 = c
        .upload_attachment(
            &created.key,
            "big.bin",
            "application/octet-stream",
            UploadSource::File(path),
        )
        .await
        .expect("upload file");
    let dl = c.download_attachment(&up[0].id).await.expect("download");
    assert_eq!(&dl.bytes().await.expect("bytes")[..], b"hello");
    let out = dir.path().join("back.bin");
    let n = c
        .download_attachment(&up2[0].id)
        .await
        .expect("download")
        .save_to(&out)
        .await
        .expect("save");
    assert_eq!(n, data.len() as u64);
    assert_eq!(std::fs::read(&out).expect("read"), data);
    let attachments = || async {
        let issue = c.get_issue(&created.key).await.expect("get");
        issue.attachments.len()
    };
    assert_eq!(attachments().await, 2);
    c.delete_attachment(&up[0].id)
        .await
        .expect("delete attachment");
    assert_eq!(attachments().await, 1);

    // Search, paging by the flavour's style.
    let jql = "project = SUP ORDER BY key ASC";
    let mut keys = Vec::new();
    let mut cursor = PageCursor::Start;
    let mut pages = 0;
    loop {
        let page = c
            .search_page(jql, "summary,status", &cursor, 2)
            .await
            .expect("search");
        pages += 1;
        keys.extend(page.issues.iter().map(|i| i.key.clone()));
        assert!(
            page.issues.iter().all(|i| !i.summary.is_empty()),
            "fields were asked for"
        );
        match page.next {
            Some(next) => {
                match (&next, flavour) {
                    (PageCursor::Token(_), Flavour::Cloud)
                    | (PageCursor::Offset(_), Flavour::DataCenter) => {}
                    other => panic!("wrong paging style {other:?}"),
                }
                cursor = next;
            }
            None => break,
        }
    }
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(pages >= 2);
    assert!(keys.contains(&created.key));
    let all = c.search_all(jql, "summary", 100).await.expect("search all");
    assert_eq!(all.len(), 4);

    // Delete.
    c.delete_issue(&created.key).await.expect("delete");
    let gone = c.get_issue(&created.key).await.expect_err("gone");
    assert!(gone.is_not_found(), "{gone}");
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn jira_client_every_call_cloud() {
    every_call(Flavour::Cloud).await;
}

#[tokio::test]
async fn jira_client_every_call_dc() {
    every_call(Flavour::DataCenter).await;
}
