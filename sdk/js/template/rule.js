// A Twinsync rule: it starts from the stock `basic` rule (summary, description,
// issue type, priority, labels, status, comments and attachments, both ways)
// and changes two things beside it: internal comments stay home, and status
// names are mapped through config (`map.status.<theirs>` = `<ours>`).
import { basicIncoming, basicOutgoing, mapOption } from '@twinsync/rules';

/** Local issue -> what may leave this side. */
export function outgoing(issue, _ctx) {
  const replica = basicOutgoing(issue);
  replica.comments = replica.comments.filter((c) => !c.internal);
  return replica;
}

/** Replica from the other side (+ the local twin, if any) -> desired local state. */
export function incoming(replica, local, ctx) {
  const changes = basicIncoming(replica, local, ctx);
  // Status names differ between the sites: `map.status.<theirs>` in this side's config.
  changes.status = mapOption('status', replica.status);
  return changes;
}
