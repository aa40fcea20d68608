// The options page: the server address, and the host permission that reaching it needs.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;
  const ext = globalThis.browser ?? globalThis.chrome;

  const form = document.getElementById('server-form');
  const input = document.getElementById('server-url');
  const status = document.getElementById('status');

  function say(text, kind = '') {
    status.textContent = text;
    status.className = kind;
  }

  async function check(serverUrl) {
    say(`Saved. Asking ${serverUrl}…`);
    const answer = await ext.runtime.sendMessage({ type: 'api', op: 'health' });
    if (!answer?.ok) {
      say(`Saved, but: ${answer?.error ?? 'no answer from the extension'}`, 'error');
      return;
    }
    const count = answer.data.repositories;
    say(`Saved. The server answers: ${count} indexed ${count === 1 ? 'repository' : 'repositories'}.`, 'ok');
  }

  function save(serverUrl) {
    // Browsers only grant permissions inside the user's click: ask before anything asynchronous.
    ext.permissions.request({ origins: [CodeSearch.hostPermissionPattern(serverUrl)] }).then(async (granted) => {
      if (!granted) {
        say(`Not saved: without permission to reach ${new URL(serverUrl).host} the extension can't use that server.`, 'error');
        return;
      }
      await ext.storage.local.set({ serverUrl });
      input.value = serverUrl;
      await check(serverUrl);
    }, (error) => say(`Not saved: ${error.message}`, 'error'));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let serverUrl;
    try {
      serverUrl = CodeSearch.normalizeServerUrl(input.value);
    } catch (error) {
      say(error.message, 'error');
      return;
    }
    save(serverUrl);
  });

  document.getElementById('reset').addEventListener('click', () => save(CodeSearch.DEFAULT_SERVER_URL));

  ext.storage.local.get('serverUrl').then(({ serverUrl }) => {
    input.value = serverUrl || CodeSearch.DEFAULT_SERVER_URL;
  });
})();
