//! Simulator end-to-end tests over real HTTP: the REST surface of both flavours, search and the
//! request log.

use serde_json::{Value, json};
use twinsync_e2e::adf::adf;
use twinsync_e2e::rest::{Answer, Client, start};
use twinsync_jira_sim::Flavour;

#[tokio::test]
async fn sim_auth_is_checked_like_jira() {
    for flavour in [Flavour::Cloud, Flavour::DataCenter] {
        let h = start(flavour).await;
        let c = Client::new(&h);
        let anon = c
            .http
            .get(format!("{}/myself", c.base))
            .send()
            .await
            .expect("reachable");
        assert_eq!(anon.status().as_u16(), 401);
        let a = Answer::read(anon).await;
        assert!(
            a.body["errorMessages"]
                .as_array()
                .is_some_and(|m| !m.is_empty()),
            "Jira error body: {}",
            a.body
        );
        assert!(a.body["errors"].is_object());
        let wrong = c
            .http
            .get(format!("{}/myself", c.base))
            .header("Authorization", "Bearer nope")
            .send()
            .await
            .expect("reachable");
        assert_eq!(wrong.status().as_u16(), 401);
        // serverInfo answers anonymously, as Jira does.
        let info = c
            .http
            .get(format!("{}/serverInfo", c.base))
            .send()
            .await
            .expect("reachable");
        let info = Answer::read(info).await;
        assert_eq!(info.status, 200);
        let expected = if flavour == Flavour::Cloud {
            "Cloud"
        } else {
            "Server"
        };
        assert_eq!(info.body["deploymentType"], expected);
        let me = c.get("/myself").await;
        assert_eq!(me.status, 200);
        match flavour {
            Flavour::Cloud => assert_eq!(me.body["emailAddress"], "admin@example.com"),
            Flavour::DataCenter => assert_eq!(me.body["name"], "admin"),
        }
        // Another user's credentials identify that user.
        let alice = h.auth_header_for(1).expect("alice has a token");
        let r = c
            .http
            .get(format!("{}/myself", c.base))
            .header("Authorization", alice)
            .send()
            .await
            .expect("reachable");
        assert_eq!(Answer::read(r).await.body["displayName"], "Alice Example");
    }
    let h = start(Flavour::DataCenter).await;
    let c = Client::new(&h);
    assert_eq!(
        c.get("/rest/api/3/myself").await.status,
        404,
        "DC serves no REST v3"
    );
}

#[tokio::test]
async fn sim_cloud_issue_lifecycle() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    let bad = c.post("/issue", json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "x", "description": "plain"}})).await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body["errors"]["description"]
            .as_str()
            .is_some_and(|m| m.contains("Atlassian Document")),
        "{}",
        bad.body
    );
    let missing = c
        .post(
            "/issue",
            json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}}}),
        )
        .await;
    assert_eq!(
        missing.body["errors"]["summary"],
        "You must specify a summary of the issue."
    );

    let alice = h.state().users[1].account_id.clone();
    let created = c
        .post("/issue", json!({"fields": {
            "project": {"key": "SUP"}, "issuetype": {"name": "Bug"}, "summary": "Disk full",
            "description": adf("The disk is full."), "labels": ["ops"], "assignee": {"accountId": alice},
            "customfield_10012": {"value": "Major"}, "customfield_10010": 3,
        }}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body["key"].as_str().expect("key").to_string();
    assert!(
        created.body["self"]
            .as_str()
            .is_some_and(|s| s.ends_with(&format!(
                "/rest/api/3/issue/{}",
                created.body["id"].as_str().unwrap_or("")
            )))
    );

    let got = c
        .get(&format!(
            "/issue/{key}?expand=names,renderedFields,changelog,transitions"
        ))
        .await;
    assert_eq!(got.status, 200);
    let f = &got.body["fields"];
    assert_eq!(f["description"], adf("The disk is full."));
    assert_eq!(f["status"]["name"], "To Do");
    assert_eq!(f["assignee"]["accountId"], alice.as_str());
    assert_eq!(f["customfield_10012"]["value"], "Major");
    assert_eq!(f["customfield_10010"], 3);
    assert_eq!(got.body["names"]["customfield_10012"], "Severity");
    assert!(
        got.body["renderedFields"]["description"]
            .as_str()
            .is_some_and(|h| h.contains("<p>The disk is full.</p>"))
    );
    let tnames: Vec<&str> = got.body["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tnames, vec!["Start Progress"]);
    let only = c.get(&format!("/issue/{key}?fields=summary,status")).await;
    let keys: Vec<&String> = only.body["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .collect();
    assert_eq!(keys.len(), 2, "only the asked fields: {keys:?}");

    // The same issue through REST v2 on Cloud: wiki text instead of ADF.
    let v2 = c.get(&format!("/rest/api/2/issue/{key}")).await;
    assert_eq!(v2.body["fields"]["description"], "The disk is full.");

    let edit = c.put(&format!("/issue/{key}"), json!({"fields": {"summary": "Disk really full"}, "update": {"labels": [{"add": "p1"}, {"remove": "ops"}]}})).await;
    assert_eq!(edit.status, 204);
    let status_edit = c
        .put(
            &format!("/issue/{key}"),
            json!({"fields": {"status": {"name": "Done"}}}),
        )
        .await;
    assert_eq!(
        status_edit.status, 400,
        "a status changes only through a transition"
    );
    assert!(
        status_edit.body["errors"]["status"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be set"))
    );

    let wrong = c
        .post(
            &format!("/issue/{key}/transitions"),
            json!({"transition": {"id": "31"}}),
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.body["errorMessages"][0],
        "Transition id '31' is not valid for this issue."
    );
    for t in ["11", "21", "31"] {
        let r = c
            .post(
                &format!("/issue/{key}/transitions"),
                json!({"transition": {"id": t}}),
            )
            .await;
        assert_eq!(r.status, 204, "transition {t}: {}", r.body);
    }
    let done = c
        .get(&format!(
            "/issue/{key}?fields=status,resolution,labels,summary"
        ))
        .await;
    assert_eq!(done.body["fields"]["status"]["name"], "Done");
    assert_eq!(done.body["fields"]["resolution"]["name"], "Done");
    assert_eq!(done.body["fields"]["labels"], json!(["p1"]));
    let log = c.get(&format!("/issue/{key}/changelog?maxResults=2")).await;
    assert_eq!(
        log.body["total"], 4,
        "one edit (summary and labels) and three transitions: {}",
        log.body
    );
    assert_eq!(log.body["isLast"], false);
    assert_eq!(log.body["values"].as_array().map(Vec::len), Some(2));
    let items: Vec<&Value> = log.body["values"][0]["items"]
        .as_array()
        .expect("items")
        .iter()
        .collect();
    assert!(
        items
            .iter()
            .any(|i| i["field"] == "summary" && i["toString"] == "Disk really full")
    );

    // Comments: paging, edit, internal flag via JSM's property.
    for n in 0..3 {
        let mut body = json!({"body": adf(&format!("note {n}"))});
        if n == 1 {
            body["properties"] = json!([{"key": "sd.public.comment", "value": {"internal": true}}]);
        }
        assert_eq!(
            c.post(&format!("/issue/{key}/comment"), body).await.status,
            201
        );
    }
    let page = c
        .get(&format!("/issue/{key}/comment?startAt=1&maxResults=1"))
        .await;
    assert_eq!(page.body["total"], 3);
    assert_eq!(page.body["comments"][0]["body"], adf("note 1"));
    assert_eq!(page.body["comments"][0]["jsdPublic"], false);
    let cid = page.body["comments"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let upd = c
        .put(
            &format!("/issue/{key}/comment/{cid}"),
            json!({"body": adf("note one")}),
        )
        .await;
    assert_eq!(upd.status, 200);
    assert_eq!(upd.body["body"], adf("note one"));
    let prop = c
        .get(&format!("/comment/{cid}/properties/sd.public.comment"))
        .await;
    assert_eq!(prop.body["value"]["internal"], true);
    assert_eq!(
        c.delete(&format!("/issue/{key}/comment/{cid}"))
            .await
            .status,
        204
    );
    assert_eq!(
        c.get(&format!("/issue/{key}/comment/{cid}")).await.status,
        404
    );

    // Attachments: the XSRF header is required; the answer is an array.
    let part = || {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"hello".to_vec())
                .file_name("a.txt")
                .mime_str("text/plain")
                .expect("mime"),
        )
    };
    let url = format!("{}/issue/{key}/attachments", c.base);
    let no_xsrf = c
        .http
        .post(&url)
        .header("Authorization", &c.auth)
        .multipart(part())
        .send()
        .await
        .expect("reachable");
    assert_eq!(no_xsrf.status().as_u16(), 403);
    let up = c
        .http
        .post(&url)
        .header("Authorization", &c.auth)
        .header("X-Atlassian-Token", "no-check")
        .multipart(part())
        .send()
        .await
        .expect("reachable");
    let up = Answer::read(up).await;
    assert_eq!(up.status, 200);
    let att = &up.body[0];
    assert_eq!(att["filename"], "a.txt");
    assert_eq!(att["size"], 5);
    let content = c.get(att["content"].as_str().expect("content url")).await;
    assert_eq!(content.bytes, b"hello");
    let aid = att["id"].as_str().expect("id").to_string();
    assert_eq!(
        c.get(&format!("/attachment/{aid}")).await.body["filename"],
        "a.txt"
    );
    assert_eq!(c.delete(&format!("/attachment/{aid}")).await.status, 204);
    assert_eq!(c.get(&format!("/attachment/{aid}")).await.status, 404);

    // Links and sub-tasks.
    let link = c.post("/issueLink", json!({"type": {"name": "Blocks"}, "inwardIssue": {"key": "SUP-2"}, "outwardIssue": {"key": key}})).await;
    assert_eq!(link.status, 201);
    let links = c.get(&format!("/issue/{key}?fields=issuelinks")).await;
    assert_eq!(
        links.body["fields"]["issuelinks"][0]["inwardIssue"]["key"],
        "SUP-2"
    );
    assert_eq!(
        links.body["fields"]["issuelinks"][0]["type"]["outward"],
        "blocks"
    );
    let sub = c.post("/issue", json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Sub-task"}, "summary": "child", "parent": {"key": key}}})).await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    let orphan = c.post("/issue", json!({"fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Sub-task"}, "summary": "orphan"}})).await;
    assert_eq!(orphan.status, 400);
    let parent = c.get(&format!("/issue/{key}?fields=subtasks")).await;
    assert_eq!(parent.body["fields"]["subtasks"][0]["key"], sub.body["key"]);
    let refuse = c.delete(&format!("/issue/{key}")).await;
    assert_eq!(refuse.status, 400, "sub-tasks need deleteSubtasks");
    assert_eq!(
        c.delete(&format!("/issue/{key}?deleteSubtasks=true"))
            .await
            .status,
        204
    );
    let gone = c.get(&format!("/issue/{key}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
}

#[tokio::test]
async fn sim_dc_speaks_v2_with_wiki_and_names() {
    let h = start(Flavour::DataCenter).await;
    let c = Client::new(&h);
    let adf_refused = c.post("/issue", json!({"fields": {"project": {"key": "DEV"}, "issuetype": {"id": "10001"}, "summary": "x", "description": adf("x")}})).await;
    assert_eq!(adf_refused.status, 400);
    let created = c.post("/issue", json!({"fields": {"project": {"key": "DEV"}, "issuetype": {"name": "Task"}, "summary": "Wiki", "description": "h2. Title\n\n*bold*", "assignee": {"name": "bob"}, "duedate": "2026-03-01"}})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body["key"].as_str().expect("key").to_string();
    let got = c.get(&format!("/issue/{key}")).await;
    assert_eq!(got.body["fields"]["description"], "h2. Title\n\n*bold*");
    assert_eq!(got.body["fields"]["assignee"]["name"], "bob");
    assert!(
        got.body["fields"]["assignee"].get("accountId").is_none(),
        "DC users have no accountId"
    );
    assert_eq!(got.body["fields"]["duedate"], "2026-03-01");
    let unknown = c
        .put(
            &format!("/issue/{key}"),
            json!({"fields": {"assignee": {"name": "nobody"}}}),
        )
        .await;
    assert_eq!(
        unknown.body["errors"]["assignee"],
        "User 'nobody' does not exist."
    );
    let assign = c
        .put(&format!("/issue/{key}/assignee"), json!({"name": "alice"}))
        .await;
    assert_eq!(assign.status, 204);
    let cm = c
        .post(
            &format!("/issue/{key}/comment"),
            json!({"body": "internal note", "visibility": {"type": "role", "value": "Developers"}}),
        )
        .await;
    assert_eq!(cm.status, 201);
    assert_eq!(cm.body["visibility"]["value"], "Developers");
    assert_eq!(cm.body["body"], "internal note");
    assert!(cm.body.get("jsdPublic").is_none());
    let users = c.get("/user/search?username=al").await;
    assert_eq!(users.body[0]["name"], "alice");
    let up = c
        .http
        .post(format!("{}/issue/{key}/attachments", c.base))
        .header("Authorization", &c.auth)
        .header("X-Atlassian-Token", "no-check")
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(vec![1, 2, 3]).file_name("b.bin"),
        ))
        .send()
        .await
        .expect("reachable");
    let up = Answer::read(up).await;
    let content = up.body[0]["content"].as_str().expect("content").to_string();
    assert!(content.contains("/secure/attachment/"), "{content}");
    assert_eq!(c.get(&content).await.bytes, vec![1, 2, 3]);
    let meta = c.get("/issue/createmeta/DEV/issuetypes/10001").await;
    let ids: Vec<&str> = meta.body["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|f| f["fieldId"].as_str())
        .collect();
    assert!(
        ids.contains(&"summary") && ids.contains(&"customfield_10010"),
        "{ids:?}"
    );
    let edit = c.get(&format!("/issue/{key}/editmeta")).await;
    assert!(
        edit.body["fields"]["labels"]["operations"]
            .as_array()
            .is_some_and(|o| o.contains(&json!("add")))
    );
}

#[tokio::test]
async fn sim_cloud_search_pages_with_tokens() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    for n in 0..7 {
        h.create_issue("DEV", "Task", &format!("bulk {n}"))
            .expect("create");
    }
    let first = c
        .get("/search/jql?jql=project%20%3D%20DEV%20ORDER%20BY%20key%20ASC&maxResults=4")
        .await;
    assert_eq!(first.status, 200);
    let issues = first.body["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), 4);
    assert_eq!(
        issues[0].as_object().map(|o| o.len()),
        Some(1),
        "ids only without fields: {}",
        issues[0]
    );
    assert_eq!(first.body["isLast"], false);
    let token = first.body["nextPageToken"]
        .as_str()
        .expect("token")
        .to_string();
    let second = c.post("/search/jql", json!({"jql": "project = DEV ORDER BY key ASC", "maxResults": 10, "nextPageToken": token, "fields": ["summary", "status"]})).await;
    let issues = second.body["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), 5, "9 DEV issues: 2 seeded + 7");
    assert!(
        second.body.get("nextPageToken").is_none(),
        "absent on the last page: {}",
        second.body
    );
    assert_eq!(second.body["isLast"], true);
    assert_eq!(issues[4]["fields"]["summary"], "bulk 6");
    assert!(issues[0]["fields"].get("labels").is_none());
    let bad = c.get("/search/jql?jql=project%20%3D%20NOPE").await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.body["errorMessages"][0],
        "The value 'NOPE' does not exist for the field 'project'."
    );
    let syntax = c
        .post("/search/jql", json!({"jql": "status WAS Done"}))
        .await;
    assert_eq!(
        syntax.status, 400,
        "unsupported JQL is refused, not guessed: {}",
        syntax.body
    );
    let removed = c.get("/search?jql=").await;
    assert_eq!(removed.status, 410);
    let text = c
        .post(
            "/search/jql",
            json!({"jql": "text ~ \"login\" AND status != Done", "fields": ["key"]}),
        )
        .await;
    let keys: Vec<&str> = text.body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert!(
        keys.contains(&"SUP-1") && keys.contains(&"SUP-3"),
        "{keys:?}"
    );
    let recent = c.post("/search/jql", json!({"jql": "updated >= -5m AND assignee IS EMPTY AND issuetype = Task", "fields": ["summary"], "maxResults": 100})).await;
    assert_eq!(
        recent.body["issues"].as_array().map(Vec::len),
        Some(8),
        "{}",
        recent.body
    );
}

#[tokio::test]
async fn sim_dc_search_pages_with_start_at() {
    let h = start(Flavour::DataCenter).await;
    let c = Client::new(&h);
    let r = c
        .get("/search?jql=ORDER%20BY%20key%20ASC&startAt=1&maxResults=2")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total"], 5);
    assert_eq!(r.body["startAt"], 1);
    assert_eq!(r.body["maxResults"], 2);
    let keys: Vec<&str> = r.body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert_eq!(keys, vec!["DEV-2", "SUP-1"]);
    assert!(
        r.body["issues"][0]["fields"]["summary"].is_string(),
        "navigable fields by default"
    );
    assert!(
        r.body["issues"][0]["fields"].get("comment").is_none(),
        "comment is not navigable"
    );
    let p = c.post("/search", json!({"jql": "project = SUP AND (labels in (login) OR component = Backend) AND reporter = carol", "fields": ["summary"], "expand": ["names"]})).await;
    assert_eq!(p.body["total"], 1, "{}", p.body);
    assert_eq!(p.body["names"]["summary"], "Summary");
    let cu = c
        .post("/search", json!({"jql": "assignee = currentUser()"}))
        .await;
    assert_eq!(cu.body["total"], 0);
}

#[tokio::test]
async fn sim_request_log_counts_calls() {
    let h = start(Flavour::Cloud).await;
    let c = Client::new(&h);
    h.clear_log();
    c.get("/issue/SUP-1").await;
    c.get("/issue/SUP-2").await;
    c.get("/issue/NOPE-1").await;
    c.put("/issue/SUP-1", json!({"fields": {"summary": "renamed"}}))
        .await;
    assert_eq!(h.count("GET", "/rest/api/3/issue/{key}"), 3);
    assert_eq!(h.count("PUT", "/rest/api/3/issue/{key}"), 1);
    let log = h.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log[2].path, "/rest/api/3/issue/NOPE-1");
    assert_eq!(log[2].status, 404);
    let counters = c.get("/_sim/counters").await;
    assert!(
        counters
            .body
            .as_array()
            .expect("counters")
            .iter()
            .any(|x| x["method"] == "PUT" && x["status"] == 204 && x["count"] == 1)
    );
    assert_eq!(h.requests().len(), 4, "the control endpoint is not logged");
}
