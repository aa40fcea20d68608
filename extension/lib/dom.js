// Building elements from data without ever parsing markup: text goes in as text nodes, never as HTML.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  /**
   * h(tag, props, children) for one document. props: attributes, `text` for textContent and `onevent`
   * for listeners; null/false props and children are skipped; string children become text nodes.
   */
  function elementBuilder(doc) {
    return function h(tag, props = {}, children = []) {
      const element = doc.createElement(tag);
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === 'text') element.textContent = String(value);
        else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
        else element.setAttribute(key, value === true ? '' : String(value));
      }
      for (const child of [children].flat(Infinity)) {
        if (child === null || child === undefined || child === false) continue;
        element.append(typeof child === 'string' ? doc.createTextNode(child) : child);
      }
      return element;
    };
  }

  /** The address if it is an http(s) one, else null: a server could send javascript: links. */
  function safeHref(address) {
    try {
      const url = new URL(address);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch {
      return null;
    }
  }

  CodeSearch.elementBuilder = elementBuilder;
  CodeSearch.safeHref = safeHref;
})();
