// Real Chromium (Debian's, driven by playwright-core) with the extension's Chromium build loaded unpacked,
// and github.com resolved to the local fake.
import { chromium } from 'playwright-core';

export async function launchWithExtension({ extensionDir, profileDir, githubPort }) {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless=new',
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      `--host-resolver-rules=MAP github.com 127.0.0.1:${githubPort}`,
      '--ignore-certificate-errors',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  const worker = context.serviceWorkers()[0] ?? await context.waitForEvent('serviceworker', { timeout: 30_000 });
  const extensionId = new URL(worker.url()).host;
  return { context, worker, extensionId };
}

/**
 * Presses Alt+Shift+S so that Chromium's `commands` accelerator sees it, as a real key press would.
 * Playwright's keyboard.press() doesn't: it sends CDP "keyDown" events, which go to the page only.
 * The browser matches extension shortcuts on a "rawKeyDown" that carries a native key code (without
 * nativeVirtualKeyCode the shortcut doesn't fire either), so the event is sent by hand.
 */
export async function pressSidebarShortcut(page) {
  const cdp = await page.context().newCDPSession(page);
  const key = { key: 'S', code: 'KeyS', windowsVirtualKeyCode: 83, nativeVirtualKeyCode: 83, modifiers: 1 | 8 }; // Alt|Shift
  await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...key });
  await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...key });
  await cdp.detach();
}

/**
 * Calls the background's context-menu handler with what a click on "Search by code" in the active tab
 * passes it (Playwright can't open the browser's own context menu).
 */
export async function clickSearchByCodeMenu(page, worker, selectionText) {
  await page.bringToFront();
  await worker.evaluate(async (text) => {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    await globalThis.onContextMenuClick({ menuItemId: 'codesearch-search-by-code', selectionText: text, frameId: 0 }, tab);
  }, selectionText);
}
