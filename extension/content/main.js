// Entry point on github.com: mounts the sidebar on repository pages and follows GitHub's in-page navigation.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;
  const ext = globalThis.browser ?? globalThis.chrome;

  let controller = null;
  const sidebar = new CodeSearch.Sidebar(document, {
    onToggle: (open) => controller?.onToggle(open),
    onSettings: () => CodeSearch.background.openSettings(),
  });

  async function onLocation() {
    const page = CodeSearch.parseRepositoryPage(location.href);
    if (page && controller && page.fullName === controller.page.fullName) {
      controller.page = page; // same repository, another file: only the language of a selection changes
      return;
    }
    controller = null;
    if (!page) {
      sidebar.detach();
      return;
    }
    sidebar.attach();
    const saved = await CodeSearch.background.loadTabState().catch(() => null);
    if (CodeSearch.parseRepositoryPage(location.href)?.fullName === page.fullName) {
      controller = new CodeSearch.Controller(sidebar, page, saved);
    }
  }

  ext.runtime.onMessage.addListener((message) => {
    if (!controller) return;
    if (message.type === 'toggle') {
      controller.toggle();
    } else if (message.type === 'search-by-code') {
      const code = CodeSearch.selectedText(window).trim() || message.selectionText || '';
      const language = CodeSearch.languageOfFile(CodeSearch.selectionFilePath(window, controller.page));
      controller.searchByCode(code, language);
    }
  });

  CodeSearch.background.shortcut().then((shortcut) => sidebar.setShortcut(shortcut), () => {});

  // GitHub navigates with history.pushState, which fires no event that a content script can hear.
  let lastHref = location.href;
  setInterval(() => {
    if (location.href === lastHref) return;
    lastHref = location.href;
    onLocation();
  }, 500);
  onLocation();
})();
