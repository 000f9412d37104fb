/* What Esc closes before it means "stop": an open dialog, a rename box, the voices panel's open form. Each
 * registers a closer while it is open; the hotkeys ask here first (hotkeys.js), so Esc closes the newest one
 * and only stops speech when nothing is open. */

const closers = [];

/** While something is open, `close()` is what Esc does; call the returned function once it has closed. */
export function onEscape(close) {
  const entry = { close };
  closers.push(entry);
  return () => {
    const i = closers.indexOf(entry);
    if (i >= 0) closers.splice(i, 1);
  };
}

/** Close the newest open thing; false when nothing is open. */
export function dismissNewest() {
  const entry = closers.pop();
  if (!entry) return false;
  entry.close();
  return true;
}
