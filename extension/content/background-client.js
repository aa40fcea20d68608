// The content script's only way out: every server request and browser-level action goes through the background.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;
  const ext = globalThis.browser ?? globalThis.chrome;

  async function send(message) {
    try {
      return await ext.runtime.sendMessage(message);
    } catch {
      // After the extension is reloaded or updated, scripts left in open pages are cut off from it.
      throw Object.assign(new Error('codesearch was updated: reload the page to use it.'), { unreachable: true });
    }
  }

  /** An API operation's data; throws an Error carrying the server's message, status and reachability. */
  async function api(op, args = {}) {
    const answer = await send({ type: 'api', op, args });
    if (!answer?.ok) {
      throw Object.assign(new Error(answer?.error ?? 'No answer from the extension.'), {
        status: answer?.status ?? null, unreachable: Boolean(answer?.unreachable), retryAfter: answer?.retryAfter ?? null,
      });
    }
    return answer.data;
  }

  CodeSearch.background = {
    api,
    openSettings: () => send({ type: 'open-options' }),
    shortcut: () => send({ type: 'shortcut' }),
    loadTabState: () => send({ type: 'tab-state' }),
    saveTabState: (state) => send({ type: 'tab-state', state }),
  };
})();
