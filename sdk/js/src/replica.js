// Building the replica an outgoing rule returns: copy everything, then drop what must not leave.

/**
 * A replica carrying every field of `issue`, with no properties. Nested values
 * are copies, so editing the replica (e.g. masking a comment) leaves `issue` as it was.
 *
 * Drop what must not leave with `without(replica, [...])` or keep a chosen set
 * with `only(replica, [...])`; what a replica leaves out never crosses the connection.
 */
export function replicaFrom(issue) {
  const i = structuredClone(issue);
  return {
    key: i.key,
    project: i.project,
    issueType: i.issueType,
    summary: i.summary,
    description: i.description ?? undefined,
    status: i.status,
    priority: i.priority ?? undefined,
    labels: i.labels ?? [],
    components: i.components ?? [],
    assignee: i.assignee ?? undefined,
    reporter: i.reporter ?? undefined,
    dueDate: i.dueDate ?? undefined,
    parent: i.parent ?? undefined,
    comments: i.comments ?? [],
    attachments: i.attachments ?? [],
    customFields: i.customFields ?? [],
    created: i.created,
    updated: i.updated,
    properties: [],
    worklogs: i.worklogs ?? [],
    links: i.links ?? [],
    fixVersions: i.fixVersions ?? [],
    affectedVersions: i.affectedVersions ?? [],
  };
}

/** Empties one field of a replica in place (`undefined`, or an empty list). */
export function clearReplicaField(replica, field) {
  switch (field) {
    case 'labels':
    case 'components':
    case 'comments':
    case 'attachments':
    case 'worklogs':
    case 'links':
      replica[field] = [];
      break;
    case 'fix-versions':
    case 'affected-versions':
      replica[camel(field)] = [];
      break;
    case 'custom-fields':
      replica.customFields = [];
      break;
    default:
      replica[camel(field)] = undefined;
  }
}

/**
 * The replica without the custom fields whose id or name (ignoring ASCII case)
 * is in `idsOrNames`, e.g. `['customfield_10010', 'Team']`.
 */
export function withoutCustomFields(replica, idsOrNames) {
  const names = idsOrNames.map(asciiFold);
  return {
    ...replica,
    customFields: replica.customFields.filter(
      (f) => !names.includes(asciiFold(f.id)) && !names.includes(asciiFold(f.name)),
    ),
  };
}

/** The replica with one more `[name, value]` property for the other side's incoming rule. */
export function withProperty(replica, name, value) {
  return { ...replica, properties: [...replica.properties, [String(name), String(value)]] };
}

/** `issue-type` -> `issueType`: jco's name for a WIT field. */
export function camel(name) {
  return name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

function asciiFold(s) {
  return String(s).replace(/[A-Z]/g, (c) => c.toLowerCase());
}
