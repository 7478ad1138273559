"""Drives a simulated Jira with PyPI's `jira` client, which this project did not write.

Usage: jira_client.py --flavour cloud|dc --url URL --user USER --token TOKEN

Creates, edits, transitions, comments, attaches, downloads and searches, asserting each
result. Exits non-zero with a message on the first failure; prints "ok" at the end.
"""

import argparse
import io
import sys
import uuid

from jira import JIRA


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flavour", choices=["cloud", "dc"], required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--token", required=True)
    a = ap.parse_args()

    if a.flavour == "cloud":
        jira = JIRA(server=a.url, basic_auth=(a.user, a.token))
    else:
        jira = JIRA(server=a.url, token_auth=a.token)

    check(jira._is_cloud == (a.flavour == "cloud"), "deploymentType decides cloud vs server")
    me = jira.myself()
    check(me.get("displayName") == "Administrator", f"myself: {me}")

    projects = {p.key for p in jira.projects()}
    check({"SUP", "DEV"} <= projects, f"projects: {projects}")

    tag = uuid.uuid4().hex[:10]
    issue = jira.create_issue(
        project="SUP",
        summary=f"Printer on fire {tag}",
        description="It started smoking.\n\nThen flames.",
        issuetype={"name": "Bug"},
        labels=["hardware"],
        priority={"name": "High"},
    )
    check(issue.key.startswith("SUP-"), f"created key {issue.key}")
    check(issue.fields.status.name == "To Do", f"initial status {issue.fields.status.name}")
    check(issue.fields.priority.name == "High", "priority on create")
    check("smoking" in (issue.fields.description or ""), "description round trip")

    issue.update(summary=f"Printer on fire again {tag}", fields={"labels": ["hardware", "urgent"]})
    issue = jira.issue(issue.key)
    check(issue.fields.summary == f"Printer on fire again {tag}", "edit summary")
    check(sorted(issue.fields.labels) == ["hardware", "urgent"], f"edit labels {issue.fields.labels}")

    names = [t["name"] for t in jira.transitions(issue)]
    check("Start Progress" in names and "Approve" not in names, f"transitions from To Do: {names}")
    jira.transition_issue(issue, "Start Progress")
    issue = jira.issue(issue.key, expand="changelog")
    check(issue.fields.status.name == "In Progress", f"after transition: {issue.fields.status.name}")
    items = [i for h in issue.changelog.histories for i in h.items]
    check(any(i.field == "status" and i.toString == "In Progress" for i in items), "status change in changelog")

    try:
        jira.transition_issue(issue, "31")
        check(False, "Approve from In Progress must be refused")
    except Exception as e:  # the client raises JIRAError with Jira's message
        check("not valid" in str(e), f"refusal message: {e}")

    comment = jira.add_comment(issue, f"Fire brigade called {tag}")
    check(comment.body == f"Fire brigade called {tag}", f"comment body {comment.body!r}")
    comments = jira.comments(issue)
    check([c.id for c in comments] == [comment.id], "comment listed")
    comment.update(body="Fire brigade arrived")
    check(jira.comment(issue, comment.id).body == "Fire brigade arrived", "comment edit")

    data = b"smoke log\n" * 100 + bytes(range(256))
    att = jira.add_attachment(issue=issue, attachment=io.BytesIO(data), filename="smoke.log")
    check(att.filename == "smoke.log", f"attachment name {att.filename}")
    check(int(att.size) == len(data), f"attachment size {att.size}")
    check(att.get() == data, "attachment download is byte-identical")
    issue = jira.issue(issue.key)
    check([x.filename for x in issue.fields.attachment] == ["smoke.log"], "attachment on issue")

    found = jira.search_issues(f'project = SUP AND text ~ "{tag}" ORDER BY created DESC', maxResults=10)
    check([i.key for i in found] == [issue.key], f"search by text: {[i.key for i in found]}")
    found = jira.search_issues('project = SUP AND status = "In Progress" AND labels = urgent')
    check(issue.key in [i.key for i in found], "search by status and label")
    all_sup = jira.search_issues("project = SUP", maxResults=2)
    check(len(all_sup) == 2, f"paging: first page of 2, got {len(all_sup)}")
    every = jira.search_issues("project = SUP", maxResults=False)
    check(len(every) >= 4, f"all pages: {len(every)}")
    try:
        jira.search_issues("project = NOSUCH")
        check(False, "unknown project must be a 400")
    except Exception as e:
        check("does not exist" in str(e), f"JQL error message: {e}")

    sub = jira.create_issue(
        project="SUP", summary=f"Buy extinguisher {tag}", issuetype={"name": "Sub-task"}, parent={"key": issue.key}
    )
    check(jira.issue(sub.key).fields.parent.key == issue.key, "sub-task parent")
    check(any(s.key == sub.key for s in jira.issue(issue.key).fields.subtasks), "parent lists sub-task")

    jira.delete_attachment(att.id)
    check(jira.issue(issue.key).fields.attachment == [], "attachment deleted")
    issue.delete(deleteSubtasks=True)
    try:
        jira.issue(issue.key)
        check(False, "deleted issue must be gone")
    except Exception as e:
        check("404" in str(e) or "does not exist" in str(e), f"deleted: {e}")
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
