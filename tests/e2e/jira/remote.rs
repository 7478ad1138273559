//! The client's instance, project and count calls, remote links and issue properties, against
//! the simulator in both flavours.

use serde_json::json;

use super::{client, start_sim};
use twinsync::jira::{Deployment, Flavour, RemoteLink};

async fn remote_links_properties_and_counts(flavour: Flavour) {
    let h = start_sim(flavour).await;
    let c = client(&h, flavour);

    let info = c.server_info().await.expect("serverInfo");
    let want = match flavour {
        Flavour::Cloud => Deployment::Cloud,
        // Data Center reports itself as `Server` in serverInfo.
        Flavour::DataCenter => Deployment::Server,
    };
    assert_eq!(info.deployment(), Some(want), "{info:?}");
    assert!(!info.title.is_empty());
    assert!(c.myself().await.expect("myself").ident(flavour).is_some());

    // More projects than one page of Cloud's project/search holds.
    for i in 0..55 {
        h.add_project(&format!("PRJ{i}"), &format!("Project {i}"))
            .expect("project");
    }
    let projects = c.projects().await.expect("projects");
    let seen = h.state().projects.len();
    assert_eq!(projects.len(), seen);
    assert!(
        projects
            .iter()
            .any(|p| p.key == "SUP" && !p.name.is_empty())
    );
    assert!(projects.iter().any(|p| p.key == "PRJ54"));

    let in_sup = h
        .state()
        .issues
        .values()
        .filter(|i| i.key.starts_with("SUP-"))
        .count() as u64;
    assert_eq!(c.count_jql("project = SUP").await.expect("count"), in_sup);
    assert_eq!(c.count_jql("project = PRJ3").await.expect("count"), 0);
    let bad = c.count_jql("project = NOPE").await.expect_err("bad jql");
    assert_eq!(bad.status(), Some(400), "{bad}");

    // A remote link, written twice by its global id: one link, updated.
    let mut link = RemoteLink {
        global_id: "twinsync:c1:b".into(),
        url: "http://example.com/browse/B-1".into(),
        title: "B-1 (c1)".into(),
        summary: Some("pending".into()),
        status_resolved: false,
        icon_title: Some("Twinsync".into()),
    };
    let id = c.upsert_remote_link("SUP-1", &link).await.expect("create");
    link.summary = Some("synced".into());
    let again = c.upsert_remote_link("SUP-1", &link).await.expect("update");
    assert_eq!(id, again);
    {
        let st = h.state();
        let issue = st.find_issue("SUP-1").expect("SUP-1");
        let links = st.remote_links_of(issue, None);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].global_id.as_deref(), Some("twinsync:c1:b"));
        assert_eq!(links[0].object["summary"], "synced");
        assert_eq!(links[0].object["status"]["resolved"], false);
        assert_eq!(links[0].object["icon"]["title"], "Twinsync");
    }
    assert!(
        c.delete_remote_link_by_global_id("SUP-1", "twinsync:c1:b")
            .await
            .expect("delete")
    );
    assert!(
        !c.delete_remote_link_by_global_id("SUP-1", "twinsync:c1:b")
            .await
            .expect("delete again")
    );
    let missing = c
        .upsert_remote_link("NOPE-1", &link)
        .await
        .expect_err("no issue");
    assert!(missing.is_not_found(), "{missing}");

    // An issue property, set and replaced, searchable by JQL.
    let v = json!({"status": "error", "connection": "c1", "other": "B-1", "at": 1});
    c.set_issue_property("SUP-1", "twinsync.sync", &v)
        .await
        .expect("set property");
    let hits = c
        .search_all(
            "project = SUP AND issue.property[twinsync.sync].status = error",
            "key",
            10,
        )
        .await
        .expect("search");
    assert_eq!(
        hits.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        ["SUP-1"]
    );
    let v = json!({"status": "synced", "connection": "c1", "other": "B-1", "at": 2});
    c.set_issue_property("SUP-1", "twinsync.sync", &v)
        .await
        .expect("replace property");
    assert_eq!(
        c.count_jql("project = SUP AND issue.property[twinsync.sync].status = error")
            .await
            .expect("count"),
        0
    );
    let st = h.state();
    let issue = st.find_issue("SUP-1").expect("SUP-1");
    assert_eq!(st.issues[&issue].properties["twinsync.sync"], v);
}

#[tokio::test]
async fn jira_client_remote_links_properties_counts_cloud() {
    remote_links_properties_and_counts(Flavour::Cloud).await;
}

#[tokio::test]
async fn jira_client_remote_links_properties_counts_dc() {
    remote_links_properties_and_counts(Flavour::DataCenter).await;
}
