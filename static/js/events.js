/* The page's one event bus. A module announces what happened here and the views that care listen, so that the
 * player and the speech client never call into a view, and views never call into each other.
 *
 *   replystart {replyId, text, voice, speed, live?}   a reply the Speak tab shows began (typed or pushed)
 *   chunk      {replyId, idx, part, total, text, start, end, ...}   the player scheduled a chunk (times in
 *              AudioContext seconds; every field of the server's message except the audio comes along)
 *   playing    {replyId, idx, text, chunk}   the chunk now audible changed (idx null between chunks)
 *   replyend   {replyId, reason: done|stopped|replaced|error}   the player is done with a reply
 *   replyerror {replyId, message}   a spoken reply failed (what arrived still plays)
 *   error      {message, replyId?}   notice {message}   something to tell the user
 *   stop       {all}   the user stopped (a feature with its own stream reacts: the chat)
 *   engine     {status}   a new /api/status answer (engine, state, progress, ...)
 */

export const events = new EventTarget();

export function emit(type, detail = {}) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

/** Call `handler(detail)` for every `type` event. */
export function on(type, handler) {
  events.addEventListener(type, (e) => handler(e.detail));
}
