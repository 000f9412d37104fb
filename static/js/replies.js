/* The one registry of the page's replies. Every reply the page knows is one record here: typed text spoken in
 * the page (kind "speak"), a reply another program pushed (kind "live"), an LLM chat turn (kind "chat"). The
 * speech client, the live listener and the chat add their records; the player's chunks are logged on them
 * (record.schedule); a stop heard from outside the page finds the playing reply's server job here. Views keep
 * their elements elsewhere, keyed by the record or its id, so a record stays plain data.
 *
 * Common fields: id, kind, text, status, job (the server's job id, once known), startedAt, endedAt, error,
 * schedule (the chunks the player scheduled, with their times). Each kind adds its own (see its module).
 */

const LIMIT = 50; // recent replies kept; the oldest drop out

class ReplyRegistry {
  constructor(limit) {
    this.limit = limit;
    this.list = [];
  }

  /** Register `record` (once) and return it. */
  add(record) {
    if (!this.list.includes(record)) {
      this.list.push(record);
      if (this.list.length > this.limit) this.list.shift();
    }
    return record;
  }

  get(id) {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i].id === id) return this.list[i];
    return null;
  }

  /** The newest reply, or the newest of `kind`. */
  last(kind) {
    for (let i = this.list.length - 1; i >= 0; i--) if (!kind || this.list[i].kind === kind) return this.list[i];
    return null;
  }

  ofKind(kind) {
    return this.list.filter((r) => r.kind === kind);
  }
}

export const replies = new ReplyRegistry(LIMIT);

/** Mark a record as ended with `status` (and an error sentence). */
export function settle(record, status, error) {
  record.status = status;
  if (error) record.error = error;
  record.endedAt = performance.now();
}
