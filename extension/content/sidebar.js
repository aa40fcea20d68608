// The sidebar's shell: a shadow root hung off <html>, a small toggle button, and a panel the views fill.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;

  class Sidebar {
    constructor(doc, { onToggle, onSettings }) {
      this.doc = doc;
      this.h = CodeSearch.elementBuilder(doc);
      this.onToggle = onToggle;
      this.onSettings = onSettings;
      this.host = null;
      this.shortcut = '';
    }

    attach() {
      if (this.host?.isConnected) return;
      const h = this.h;
      // A custom element outside <body>: no GitHub selector matches it, and GitHub's navigation swaps <body> only.
      this.host = this.doc.createElement('codesearch-sidebar');
      // Open so the end-to-end test can look inside; nothing in it is secret from the page.
      const root = this.host.attachShadow({ mode: 'open' });
      this.title = h('span', { class: 'repo' });
      this.body = h('div', { class: 'body' });
      this.shortcutHint = h('span', { class: 'hint' });
      // GitHub's one-key shortcuts ("s", "t", ".") listen on the document and would fire while typing here.
      const keepKey = (event) => event.stopPropagation();
      this.panel = h('aside', {
        class: 'panel', 'aria-label': 'codesearch', hidden: true, onkeyup: keepKey, onkeypress: keepKey,
        onkeydown: (event) => {
          keepKey(event);
          if (event.key === 'Escape') this.close();
        },
      }, [
        h('header', {}, [
          h('span', { class: 'brand', text: 'codesearch' }),
          this.title,
          h('button', { type: 'button', class: 'close', 'aria-label': 'Close codesearch', text: '×', onclick: () => this.close() }),
        ]),
        this.body,
        h('footer', {}, [
          this.shortcutHint,
          h('button', { type: 'button', class: 'link', text: 'Settings', onclick: () => this.onSettings() }),
        ]),
      ]);
      this.button = h('button', {
        type: 'button', class: 'toggle', 'aria-expanded': 'false', 'aria-label': 'Open codesearch',
        onclick: () => this.toggle(),
      });
      root.append(h('style', { text: CodeSearch.SIDEBAR_CSS }), this.button, this.panel);
      this.doc.documentElement.append(this.host);
      this.setShortcut(this.shortcut);
    }

    detach() {
      this.host?.remove();
      this.host = null;
    }

    get isOpen() {
      return Boolean(this.host && !this.panel.hidden);
    }

    open() {
      if (!this.host || this.isOpen) return;
      this.panel.hidden = false;
      this.button.hidden = true;
      this.button.setAttribute('aria-expanded', 'true');
      this.onToggle(true);
    }

    close() {
      if (!this.isOpen) return;
      this.panel.hidden = true;
      this.button.hidden = false;
      this.button.setAttribute('aria-expanded', 'false');
      this.button.focus({ preventScroll: true });
      this.onToggle(false);
    }

    toggle() {
      if (this.isOpen) this.close();
      else this.open();
    }

    /** `status`: 'asking' (until the server answers), 'indexed', 'not-indexed' or 'error'. */
    setRepository(fullName, status) {
      this.title.textContent = fullName;
      this.button.classList.toggle('off', status !== 'indexed');
      this.button.dataset.status = status;
      this.button.title = {
        asking: `Asking codesearch about ${fullName}…`,
        indexed: `Search ${fullName} with codesearch`,
        'not-indexed': `${fullName} is not indexed by codesearch`,
        error: `codesearch could not say whether ${fullName} is indexed`,
      }[status];
    }

    /** The user can remap the shortcut in the browser's settings, so the hint shows the current one. */
    setShortcut(shortcut) {
      this.shortcut = shortcut;
      if (!this.host) return;
      if (shortcut) this.button.setAttribute('aria-keyshortcuts', shortcut);
      else this.button.removeAttribute('aria-keyshortcuts');
      this.shortcutHint.replaceChildren(...(shortcut
        ? [this.h('kbd', { text: shortcut }), ' opens and closes this panel']
        : ['No shortcut is set for this panel']));
    }

    show(...nodes) {
      this.body.replaceChildren(...nodes.filter(Boolean)); // a null would show as the text "null"
    }
  }

  CodeSearch.Sidebar = Sidebar;
})();
