// The two browsers the extension ships for, driven by puppeteer-core: Debian's Chromium over CDP and
// Debian's Firefox ESR over its own WebDriver BiDi (no geckodriver). Nothing here downloads a browser.
// Each launch returns the same small driver, so sidebar.scenarios.mjs runs the same steps in both.
import puppeteer from 'puppeteer-core';
import { until, WAIT_MS } from './waits.mjs';

const VIEWPORT = { width: 1400, height: 900 };
const MENU_ID = 'codesearch-search-by-code';

/**
 * Chromium. The extension is installed over CDP after the browser is up (Extensions.loadUnpacked), not
 * with --load-extension at startup: a service worker started while the driver attaches to the new
 * browser can be left paused for the debugger, and on a busy machine it was (every step then waited in
 * vain for the background to answer).
 */
export async function launchChromium({ extensionDir, github }) {
  const browser = await puppeteer.launch({
    browser: 'chrome',
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    pipe: true, // Extensions.loadUnpacked needs the pipe transport
    enableExtensions: true,
    acceptInsecureCerts: true,
    defaultViewport: VIEWPORT,
    timeout: WAIT_MS.launch,
    protocolTimeout: WAIT_MS.launch,
    args: [
      `--host-resolver-rules=MAP github.com 127.0.0.1:${github.port}`,
      '--ignore-certificate-errors',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  const extensionId = await browser.installExtension(extensionDir);
  return {
    name: 'chromium',
    browser,
    page: await firstPage(browser),
    optionsUrl: `chrome-extension://${extensionId}/options/options.html`,

    /**
     * Presses Alt+Shift+S so that Chromium's `commands` accelerator sees it, as a real key press would.
     * CDP "keyDown" events (what page.keyboard sends) go to the page only; the browser matches extension
     * shortcuts on a "rawKeyDown" that carries a native key code, so the event is sent by hand.
     */
    async pressSidebarShortcut(page) {
      const cdp = await page.createCDPSession();
      const key = { key: 'S', code: 'KeyS', windowsVirtualKeyCode: 83, nativeVirtualKeyCode: 83, modifiers: 1 | 8 }; // Alt|Shift
      await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...key });
      await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...key });
      await cdp.detach();
    },

    /**
     * Right-clicks the selection, then calls the background's menu handler (the function registered with
     * contextMenus.onClicked) with what a click on "Search by code" passes: CDP can't open or click the
     * browser's own menu. Chromium collapses the selection's whitespace in selectionText.
     */
    async searchByCodeFromMenu(page, point, selectionText) {
      await page.mouse.click(point.x, point.y, { button: 'right' });
      // Attached only now, to a service worker that is running and answering: attaching while it starts
      // is what can leave it paused.
      const target = await browser.waitForTarget(
        (t) => t.type() === 'service_worker' && t.url().startsWith(`chrome-extension://${extensionId}/`),
        { timeout: WAIT_MS.step },
      );
      const worker = await target.worker();
      await worker.evaluate(async (menuItemId, text) => {
        const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
        await globalThis.onContextMenuClick({ menuItemId, selectionText: text, frameId: 0 }, tab);
      }, MENU_ID, selectionText.replace(/\s+/g, ' '));
    },
  };
}

const FIREFOX_ID = 'codesearch@codesearch.invalid'; // browser_specific_settings.gecko.id
const FIREFOX_UUID = '0c0de5ea-4c40-4e57-9c1a-3b1e3c1d5a2f'; // its moz-extension:// host, fixed by a pref

/**
 * Firefox ESR. WebDriver BiDi's webExtension.install loads the unpacked build as a temporary add-on.
 * Firefox has no --host-resolver-rules: github.com goes through the fake's proxy (127.0.0.1 is never
 * proxied, so the codesearch server is reached directly). --remote-allow-system-access lets the test run
 * script in the browser window itself (BiDi's "chrome" scope), which the shortcut and the menu need.
 */
export async function launchFirefox({ extensionDir, github }) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
    acceptInsecureCerts: true,
    defaultViewport: VIEWPORT,
    timeout: WAIT_MS.launch,
    protocolTimeout: WAIT_MS.launch,
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: {
      'network.proxy.type': 1,
      'network.proxy.ssl': '127.0.0.1',
      'network.proxy.ssl_port': github.proxyPort,
      'extensions.webextensions.uuids': JSON.stringify({ [FIREFOX_ID]: FIREFOX_UUID }),
    },
  });
  await browser.installExtension(extensionDir);
  // puppeteer's own BiDi connection: Firefox allows one WebDriver session, and puppeteer has no API for
  // the chrome scope.
  const bidi = browser.connection;
  const { result: tree } = await bidi.send('browsingContext.getTree', { 'moz:scope': 'chrome' });
  const chromeWindow = tree.contexts[0].context; // chrome://browser/content/browser.xhtml

  /** Runs `expression` in the browser window (privileged); resolves to its JSON-serialisable value. */
  async function inBrowserWindow(expression) {
    const { result } = await bidi.send('script.evaluate', {
      expression: `(async () => JSON.stringify(await (${expression})))()`,
      target: { context: chromeWindow }, awaitPromise: true,
    });
    if (result.type !== 'success') throw new Error(`browser window script failed: ${JSON.stringify(result.exceptionDetails)}`);
    return JSON.parse(result.result.value ?? 'null');
  }

  return {
    name: 'firefox',
    browser,
    page: await firstPage(browser),
    optionsUrl: `moz-extension://${FIREFOX_UUID}/options/options.html`,

    /**
     * Presses Alt+Shift+S in the browser window, where Firefox matches extension shortcuts. WebDriver key
     * actions are dispatched in the page's process and only real (native) key events come back from there
     * to the window's shortcut handling; so the keys are typed into the window with nsITextInputProcessor,
     * as Firefox's own tests do, with the window's focus on the toolbar instead of the page.
     */
    async pressSidebarShortcut() {
      await inBrowserWindow(`(() => {
        const tip = Cc['@mozilla.org/text-input-processor;1'].createInstance(Ci.nsITextInputProcessor);
        document.getElementById('urlbar-input').focus();
        tip.beginInputTransactionForTests(window);
        const key = (k, code, keyCode) => new KeyboardEvent('', { key: k, code, keyCode });
        const alt = key('Alt', 'AltLeft', 18); const shift = key('Shift', 'ShiftLeft', 16); const s = key('S', 'KeyS', 83);
        tip.keydown(alt); tip.keydown(shift); tip.keydown(s);
        tip.keyup(s); tip.keyup(shift); tip.keyup(alt);
        gBrowser.selectedBrowser.focus(); // back to the page, as after a real shortcut
      })()`);
    },

    /**
     * Right-clicks the selection, which opens Firefox's real context menu with the extension's item in it
     * (put there by Firefox for this selection, page and frame), then activates that item. WebDriver BiDi
     * can't click in the browser's own menus (input.performActions refuses the chrome scope), so the item
     * is activated with XULPopupElement.activateItem(), which behaves as a click on it.
     */
    async searchByCodeFromMenu(page, point) {
      await page.mouse.click(point.x, point.y, { button: 'right' });
      const itemId = await until(() => inBrowserWindow(`(() => {
        const menu = document.getElementById('contentAreaContextMenu');
        const item = [...menu.querySelectorAll('menuitem')].find((i) => i.id.endsWith('${MENU_ID}') && !i.hidden);
        return menu.state === 'open' && item ? item.id : null;
      })()`), 'the context menu with "Search by code"');
      const label = await inBrowserWindow(`(() => {
        const item = document.getElementById(${JSON.stringify(itemId)});
        document.getElementById('contentAreaContextMenu').activateItem(item);
        return item.label;
      })()`);
      if (label !== 'Search by code') throw new Error(`the menu item says ${label}`);
      await until(() => inBrowserWindow(`document.getElementById('contentAreaContextMenu').state === 'closed'`), 'the menu to close');
    },
  };
}

async function firstPage(browser) {
  const [page] = await browser.pages();
  const ready = page ?? await browser.newPage();
  ready.setDefaultTimeout(WAIT_MS.step);
  ready.setDefaultNavigationTimeout(WAIT_MS.step);
  return ready;
}

export const LAUNCHERS = { chromium: launchChromium, firefox: launchFirefox };
