// The options page: the server address, the host permission that reaching it needs, and the optional API
// token for that server. Tokens are kept per server address ({apiTokens: {address: token}}), so a token is
// never sent to another server; the background reads them, this page never shows them anywhere but its field.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;
  const ext = globalThis.browser ?? globalThis.chrome;

  const form = document.getElementById('settings-form');
  const fields = document.getElementById('fields');
  const serverInput = document.getElementById('server-url');
  const tokenInput = document.getElementById('api-token');
  const status = document.getElementById('status');
  let tokens = {};

  function say(text, kind = '') {
    status.textContent = text;
    status.className = kind;
  }

  function addressTyped() {
    try {
      return CodeSearch.normalizeServerUrl(serverInput.value);
    } catch {
      return null;
    }
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

  function save(serverUrl, token) {
    // Browsers only grant permissions inside the user's click: ask before anything asynchronous.
    ext.permissions.request({ origins: [CodeSearch.hostPermissionPattern(serverUrl)] }).then(async (granted) => {
      if (!granted) {
        say(`Not saved: without permission to reach ${new URL(serverUrl).host} the extension can't use that server.`, 'error');
        return;
      }
      tokens = { ...tokens, [serverUrl]: token };
      if (!token) delete tokens[serverUrl];
      await ext.storage.local.set({ serverUrl, apiTokens: tokens });
      serverInput.value = serverUrl;
      tokenInput.value = token;
      await check(serverUrl);
    }, (error) => say(`Not saved: ${error.message}`, 'error'));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let serverUrl;
    try {
      serverUrl = CodeSearch.normalizeServerUrl(serverInput.value);
    } catch (error) {
      say(error.message, 'error');
      return;
    }
    save(serverUrl, tokenInput.value.trim());
  });

  // The token field shows the token of the address typed above, so editing the address never carries
  // one server's token over to another.
  serverInput.addEventListener('input', () => {
    tokenInput.value = tokens[addressTyped()] ?? '';
  });

  document.getElementById('reset').addEventListener('click', () => {
    save(CodeSearch.DEFAULT_SERVER_URL, tokens[CodeSearch.DEFAULT_SERVER_URL] ?? '');
  });

  ext.storage.local.get(['serverUrl', 'apiTokens']).then(({ serverUrl, apiTokens }) => {
    tokens = apiTokens ?? {};
    serverInput.value = serverUrl || CodeSearch.DEFAULT_SERVER_URL;
    tokenInput.value = tokens[serverInput.value] ?? '';
    fields.disabled = false;
  });
})();
