// The code the user selected on a GitHub page, and the path of the file it was selected in.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  function activeTextField(doc) {
    const active = doc.activeElement;
    const isField = active && (active.tagName === 'TEXTAREA' || active.tagName === 'INPUT');
    return isField && active.selectionEnd > active.selectionStart ? active : null;
  }

  /**
   * The selected text with its line breaks (the context menu's selectionText loses them in Chromium).
   * GitHub's code view selects inside a read-only textarea laid over the lines, which getSelection() can't see.
   */
  function selectedText(win) {
    const field = activeTextField(win.document);
    if (field) return field.value.slice(field.selectionStart, field.selectionEnd);
    return String(win.getSelection?.() ?? '');
  }

  /**
   * The file the selection is in: a /blob/ page's own file name, else the path in the header of the
   * pull-request diff around the selection (classic diff: .file > .file-header[data-path]).
   */
  function selectionFilePath(win, page) {
    if (page.fileName) return page.fileName;
    const anchor = activeTextField(win.document) ?? win.getSelection?.()?.anchorNode;
    const element = anchor?.nodeType === 1 ? anchor : anchor?.parentElement;
    const file = element?.closest('.file, [data-file-path], [data-tagsearch-path]');
    if (!file) return null;
    return file.querySelector('[data-path]')?.getAttribute('data-path')
      || file.getAttribute('data-tagsearch-path')
      || file.getAttribute('data-file-path');
  }

  CodeSearch.selectedText = selectedText;
  CodeSearch.selectionFilePath = selectionFilePath;
})();
