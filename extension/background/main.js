// The background script: the only part that talks to the codesearch server, plus the shortcut, the context
// menu and per-tab sidebar state. Chromium runs it as a service worker, Firefox as an event page.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;
  const ext = globalThis.browser ?? globalThis.chrome;

  const MENU_ID = 'codesearch-search-by-code';
  const COMMAND = 'toggle-sidebar';

  /** The server address and the API token saved for that very address (tokens are kept per server). */
  async function settings() {
    const { serverUrl: saved, apiTokens } = await ext.storage.local.get(['serverUrl', 'apiTokens']);
    const serverUrl = saved || CodeSearch.DEFAULT_SERVER_URL;
    return { serverUrl, token: apiTokens?.[serverUrl] || null };
  }

  /**
   * {ok: true, data} or {ok: false, error, status, unreachable, retryAfter}: errors must cross the messaging
   * boundary as data. The token never leaves this script except in the request's Authorization header.
   */
  async function callApi(op, args) {
    const { serverUrl, token } = await settings();
    const client = CodeSearch.createClient(serverUrl, fetch, { token });
    if (!Object.hasOwn(client, op)) return { ok: false, error: `unknown operation ${op}` };
    try {
      return { ok: true, data: await client[op](args ?? {}) };
    } catch (error) {
      return {
        ok: false, error: error.message, status: error.status ?? null, unreachable: Boolean(error.unreachable),
        retryAfter: error.retryAfter ?? null,
      };
    }
  }

  async function shortcut() {
    const commands = await ext.commands.getAll();
    return commands.find((command) => command.name === COMMAND)?.shortcut ?? '';
  }

  // storage.session: cleared with the browser session, and it outlives the service worker going idle.
  async function tabState(tabId, state) {
    const key = `tab:${tabId}`;
    if (state !== undefined) return ext.storage.session.set({ [key]: state });
    return (await ext.storage.session.get(key))[key] ?? null;
  }

  async function handleMessage(message, sender) {
    switch (message?.type) {
      case 'api': return callApi(message.op, message.args);
      case 'shortcut': return shortcut();
      case 'tab-state': return sender.tab ? tabState(sender.tab.id, message.state) : null;
      case 'open-options': return ext.runtime.openOptionsPage();
      default: return null;
    }
  }

  ext.runtime.onMessage.addListener((message, sender, sendResponse) => {
    // sendResponse + `return true` is the asynchronous reply that both Chromium and Firefox understand.
    handleMessage(message, sender).then(sendResponse, (error) => sendResponse({ ok: false, error: String(error?.message ?? error) }));
    return true;
  });

  async function sendToTab(tabId, message, frameId = 0) {
    // Tabs without the content script (not github.com, or loaded before the extension) have no one to answer.
    await ext.tabs.sendMessage(tabId, message, { frameId }).catch(() => {});
  }

  ext.commands.onCommand.addListener(async (command, tab) => {
    if (command !== COMMAND) return;
    const target = tab ?? (await ext.tabs.query({ active: true, currentWindow: true }))[0];
    if (target?.id !== undefined) await sendToTab(target.id, { type: 'toggle' });
  });

  // The context menu's click handler; global so the end-to-end test can call it as the menu would.
  globalThis.onContextMenuClick = async (info, tab) => {
    if (info.menuItemId !== MENU_ID || tab?.id === undefined) return;
    await sendToTab(tab.id, { type: 'search-by-code', selectionText: info.selectionText ?? '' }, info.frameId ?? 0);
  };

  // Menus persist across service-worker and event-page restarts: create them once, at install or update.
  ext.runtime.onInstalled.addListener(() => {
    ext.contextMenus.create({
      id: MENU_ID,
      title: 'Search by code',
      contexts: ['selection'],
      documentUrlPatterns: ['https://github.com/*'],
    });
  });
  ext.contextMenus.onClicked.addListener(globalThis.onContextMenuClick);
  ext.tabs.onRemoved.addListener((tabId) => ext.storage.session.remove(`tab:${tabId}`));
})();
