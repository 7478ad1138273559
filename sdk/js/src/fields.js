// Names for the issue fields a rule keeps or drops, as the WIT spells them.

/** Every field, in WIT order; values are the WIT names. */
export const Field = Object.freeze({
  Key: 'key',
  Project: 'project',
  IssueType: 'issue-type',
  Summary: 'summary',
  Description: 'description',
  Status: 'status',
  Priority: 'priority',
  Labels: 'labels',
  Components: 'components',
  Assignee: 'assignee',
  Reporter: 'reporter',
  DueDate: 'due-date',
  Parent: 'parent',
  Comments: 'comments',
  Attachments: 'attachments',
  CustomFields: 'custom-fields',
  Created: 'created',
  Updated: 'updated',
  // Contract 0.3.
  Worklogs: 'worklogs',
  Links: 'links',
  FixVersions: 'fix-versions',
  AffectedVersions: 'affected-versions',
});

/** Every field name, in WIT order. */
export const ALL_FIELDS = Object.freeze(Object.values(Field));

const ALIASES = new Map([
  ['key', Field.Key],
  ['project', Field.Project],
  ['issuetype', Field.IssueType],
  ['type', Field.IssueType],
  ['summary', Field.Summary],
  ['description', Field.Description],
  ['status', Field.Status],
  ['priority', Field.Priority],
  ['labels', Field.Labels],
  ['label', Field.Labels],
  ['components', Field.Components],
  ['component', Field.Components],
  ['assignee', Field.Assignee],
  ['reporter', Field.Reporter],
  ['duedate', Field.DueDate],
  ['due', Field.DueDate],
  ['parent', Field.Parent],
  ['comments', Field.Comments],
  ['comment', Field.Comments],
  ['attachments', Field.Attachments],
  ['attachment', Field.Attachments],
  ['customfields', Field.CustomFields],
  ['created', Field.Created],
  ['updated', Field.Updated],
  ['worklogs', Field.Worklogs],
  ['worklog', Field.Worklogs],
  ['links', Field.Links],
  ['link', Field.Links],
  ['fixversions', Field.FixVersions],
  ['affectedversions', Field.AffectedVersions],
]);

/**
 * Parses a field name, ignoring case, `-`, `_` and spaces, so `issue-type`,
 * `issueType`, `Issue Type` and `type` all name `Field.IssueType`. Returns
 * `undefined` for anything else (e.g. a custom field's id or name).
 */
export function parseField(name) {
  const folded = String(name).replace(/[-_ ]/g, '').toLowerCase();
  return ALIASES.get(folded);
}

/** The WIT names of `fields`; throws a TypeError on a name that is no field. */
export function fieldNames(fields) {
  return fields.map((f) => {
    const field = parseField(f);
    if (field === undefined) {
      throw new TypeError(`${JSON.stringify(f)} is not an issue field (custom fields: withoutCustomFields)`);
    }
    return field;
  });
}
