//! A rule built directly against the frozen `twinsync:rules@0.2.0` contract in
//! `wit/v0.2`, as a rule compiled before 0.3 existed would be. It copies the
//! summary, status and labels out and lands summary and status in, and marks
//! its replica with property `contract = 0.2` and the security level 0.2 added.
//! The host must keep loading it, and it never sees worklogs, links or versions.

wit_bindgen::generate!({
    world: "rule",
    path: "../../wit/v0.2",
});

struct Legacy;

impl Guest for Legacy {
    fn outgoing(issue: Issue, _ctx: SyncContext) -> Result<Replica, RuleError> {
        Ok(Replica {
            key: Some(issue.key),
            project: None,
            issue_type: Some(issue.issue_type),
            summary: Some(issue.summary),
            description: None,
            status: Some(issue.status),
            priority: None,
            labels: issue.labels,
            components: Vec::new(),
            assignee: None,
            reporter: None,
            due_date: None,
            parent: None,
            comments: Vec::new(),
            attachments: Vec::new(),
            custom_fields: Vec::new(),
            created: None,
            updated: Some(issue.updated),
            properties: vec![
                ("contract".to_string(), "0.2".to_string()),
                (
                    "security-level".to_string(),
                    issue.security_level.unwrap_or_default(),
                ),
            ],
        })
    }

    fn incoming(
        replica: Replica,
        _local: Option<Issue>,
        ctx: SyncContext,
    ) -> Result<Changes, RuleError> {
        let project = twinsync::rules::host::config("project");
        if ctx.first_sync && project.is_none() {
            return Err(RuleError::Fail("config key `project` is not set".into()));
        }
        Ok(Changes {
            project,
            issue_type: replica.issue_type,
            summary: replica.summary,
            description: None,
            status: replica.status,
            priority: None,
            labels: None,
            components: None,
            assignee: None,
            reporter: None,
            due_date: None,
            parent: None,
            comments: None,
            attachments: None,
            custom_fields: Vec::new(),
        })
    }
}

export!(Legacy);
