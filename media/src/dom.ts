// The webviews' one DOM helper. Data goes in only as text nodes and attribute values (never
// innerHTML), so nothing from the machine, the workspace or a trainer can become markup or script
// under the views' strict Content Security Policy.

/** A child to append: an element, text (as a text node), or nothing (null, undefined, false are skipped). */
export type Child = Node | string | null | undefined | false;

/** `el('button', { class: 'secondary', 'aria-label': 'Cancel run' }, 'Cancel')`. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}
