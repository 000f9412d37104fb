/* Small DOM helpers every view uses (query, build an element, a clock label), in one place so that no view
 * reaches into another for them. */

export const $ = (selector, root = document) => root.querySelector(selector);

/** A new element with `props` assigned and `children` appended (null children are skipped). */
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/** The time of day as a message shows it ("14:05"). */
export const clock = () => new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
