// Keyboard shortcuts for every page: "/" jumps to the search box; Ctrl/Cmd+Enter submits pasted code.
"use strict";

document.addEventListener("keydown", (event) => {
  const target = event.target;
  const typing = target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    const box = document.querySelector("[data-search-shortcut], [data-submit-shortcut]");
    if (box) {
      event.preventDefault();
      box.focus();
      if (box.select) box.select();
    }
  }
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.matches && target.matches("[data-submit-shortcut]")) {
    event.preventDefault();
    target.form.requestSubmit();
  }
});
