// The extension in real Chromium, on imitation GitHub pages, against the real server named by
// CODESEARCH_SERVER with example/sample indexed (tests/test_extension_e2e.py sets that up).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildDirectory } from '../../build.mjs';
import { clickSearchByCodeMenu, launchWithExtension, pressSidebarShortcut } from './browser.mjs';
import { startFakeGitHub } from './fake-github.mjs';

const SERVER = process.env.CODESEARCH_SERVER;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? path.join(REPO_ROOT, 'test-artifacts/screenshots/extension');
const BLOB = 'https://github.com/example/sample/blob/0123abc/sample/storage.py';
const PULL = 'https://github.com/example/sample/pull/1/files';
const UNINDEXED = 'https://github.com/example/unknown';

describe('the extension in Chromium', { skip: !SERVER && 'set CODESEARCH_SERVER to a server with example/sample indexed', timeout: 180_000 }, () => {
  let tmp; let github; let browser; let page;
  const sidebar = (selector = '') => page.locator(`codesearch-sidebar ${selector}`.trim());
  const shot = (name) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
  const resultNames = () => sidebar('.result .func').allTextContents();

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'codesearch-e2e-'));
    await mkdir(SCREENSHOTS, { recursive: true });
    github = await startFakeGitHub(tmp);
    const extensionDir = path.join(tmp, 'chromium');
    await buildDirectory('chromium', extensionDir);
    browser = await launchWithExtension({ extensionDir, profileDir: path.join(tmp, 'profile'), githubPort: github.port });
    page = browser.context.pages()[0] ?? await browser.context.newPage();
  });

  after(async () => {
    await browser?.context.close();
    await github?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the options page saves the server address and checks it', async () => {
    await page.goto(`chrome-extension://${browser.extensionId}/options/options.html`);
    await page.locator('#server-url').fill(`${SERVER}/`);
    await page.getByRole('button', { name: 'Save' }).click();
    await assert.doesNotReject(page.locator('#status.ok').waitFor());
    assert.match(await page.locator('#status').textContent(), /The server answers: 1 indexed repository\./);
    assert.equal(await page.locator('#server-url').inputValue(), SERVER);
    await shot('options');
  });

  it('on a repository page a button appears, and GitHub keeps its layout', async () => {
    await page.goto(BLOB);
    // The button says it is asking until the server's answer about the repository arrives.
    await sidebar('.toggle[data-status=indexed]').waitFor();
    assert.equal(await sidebar('.panel').isHidden(), true);
    assert.match(await sidebar('.toggle').getAttribute('title'), /Search example\/sample/);
    await shot('blob-page');
  });

  it('Alt+Shift+S opens the sidebar without moving the page; a query shows highlighted, linked results', async () => {
    const mainBox = await page.locator('main').boundingBox();
    await pressSidebarShortcut(page);
    await sidebar('.panel').waitFor();
    assert.deepEqual(await page.locator('main').boundingBox(), mainBox);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);

    // GitHub's one-key shortcuts listen on the document: typing in the sidebar must not reach them.
    await page.evaluate(() => {
      window.keysSeenByPage = 0;
      document.addEventListener('keydown', () => { window.keysSeenByPage += 1; });
    });
    await sidebar('input[name=q]').pressSequentially('compute a checksum of a file');
    await sidebar('input[name=q]').press('Enter');
    assert.equal(await page.evaluate(() => window.keysSeenByPage), 0);
    await sidebar('.result').first().waitFor();
    const names = await resultNames();
    assert.ok(names.slice(0, 3).includes('fingerprint'), names.join(', '));
    const first = sidebar('.result').nth(names.indexOf('fingerprint'));
    assert.equal(await first.locator('.location').textContent(), 'sample/storage.py:8–14');
    assert.equal(await first.locator('.location').getAttribute('href'),
      'https://github.com/example/sample/blob/0123abc/sample/storage.py#L8-L14');
    assert.match(await first.locator('.rating').textContent(), /^\d+%$/);
    assert.ok(await first.locator('pre.hl .k').count() > 0, 'keywords are highlighted');
    assert.equal(await first.locator('.line').count(), 7);
    assert.equal(await sidebar('.status').textContent(), '10 functions for “compute a checksum of a file”');
    await shot('query-results');
  });

  it("GitHub's styles stay out of the sidebar and the sidebar's stay out of the page", async () => {
    const style = (locator, property) => locator.evaluate((el, p) => getComputedStyle(el)[p], property);
    assert.equal(await style(sidebar('.tab').first(), 'borderTopWidth'), '0px');
    assert.doesNotMatch(await style(sidebar('pre.hl').first(), 'fontFamily'), /^serif/);
    assert.equal(await style(sidebar('.results').first(), 'listStyleType'), 'none');
    assert.equal(await style(page.locator('header .rating'), 'backgroundColor'), 'rgb(130, 80, 223)');
  });

  it('"Similar functions" lists the functions like a result, and Back returns to the results', async () => {
    const names = await resultNames();
    await sidebar('.result').nth(names.indexOf('fingerprint')).locator('.similar').click();
    await sidebar('.back').waitFor();
    assert.equal(await sidebar('.status').textContent(), '10 functions similar to fingerprint');
    const similar = await resultNames();
    assert.ok(similar.length > 0 && !similar.includes('fingerprint'), similar.join(', '));
    await shot('similar');
    await sidebar('.back').click();
    assert.deepEqual(await resultNames(), names);
  });

  it('the shortcut, Escape and the button close and open it', async () => {
    await pressSidebarShortcut(page);
    await sidebar('.panel').waitFor({ state: 'hidden' });
    await sidebar('.toggle').click();
    await sidebar('.panel').waitFor();
    await sidebar('input[name=q]').press('Escape');
    await sidebar('.panel').waitFor({ state: 'hidden' });
  });

  it('"Search by code" on a selection in a blob page finds similar functions in the file\'s language', async () => {
    // GitHub's code view selects inside its read-only textarea: select the lines of shrink() there.
    const code = await page.evaluate(() => {
      const area = document.getElementById('read-only-cursor-text-area');
      const start = area.value.indexOf('def shrink');
      const end = area.value.indexOf('\n\n', start);
      area.focus();
      area.setSelectionRange(start, end);
      return area.value.slice(start, end);
    });
    // Chromium gives the menu the selection with its line breaks collapsed; the page's own selection wins.
    await clickSearchByCodeMenu(page, browser.worker, code.replace(/\s+/g, ' '));
    await sidebar('.panel').waitFor();
    await sidebar('.result').first().waitFor();
    assert.equal(await sidebar('textarea[name=code]').inputValue(), code);
    assert.equal(await sidebar('.code-form select').inputValue(), 'python');
    assert.equal(await sidebar('.tab[aria-selected=true]').textContent(), 'Search by code');
    assert.match(await sidebar('.status').textContent(), /^\d+ functions? like this python code$/);
    assert.equal((await resultNames())[0], 'shrink');
    await shot('search-by-code-blob');
  });

  it('in a pull-request diff the language comes from the diff header of the selected lines', async () => {
    await page.goto(PULL);
    // The sidebar was open in this tab: it opens again on the new page, with the last search.
    await sidebar('.panel').waitFor();
    await page.waitForFunction(() => document.querySelector('codesearch-sidebar')
      .shadowRoot.querySelector('textarea[name=code]')?.value.startsWith('def shrink'));
    const code = await page.evaluate(() => {
      const cells = [...document.querySelectorAll('.blob-code-inner')];
      const first = cells.find((cell) => cell.textContent.startsWith('def compose'));
      const last = cells.find((cell) => cell.textContent.includes('return message'));
      const range = document.createRange();
      range.setStart(first, 0);
      range.setEnd(last, last.childNodes.length);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return getSelection().toString();
    });
    assert.match(code, /^def compose[^]*return message$/);
    await clickSearchByCodeMenu(page, browser.worker, code);
    await page.waitForFunction((expected) => document.querySelector('codesearch-sidebar')
      .shadowRoot.querySelector('textarea[name=code]').value === expected, code);
    await sidebar('.status').filter({ hasText: 'like this' }).waitFor();
    assert.equal(await sidebar('.code-form select').inputValue(), 'python');
    assert.ok((await resultNames()).slice(0, 3).includes('compose'), (await resultNames()).join(', '));
    await shot('search-by-code-pull-request');
  });

  it('an unindexed repository says so and can be queued for indexing, showing the job', async () => {
    await page.goto(UNINDEXED);
    await sidebar('.index-view').waitFor({ state: 'attached' });
    assert.match(await sidebar('.toggle').getAttribute('title'), /not indexed/);
    if (await sidebar('.panel').isHidden()) await sidebar('.toggle').click();
    assert.match(await sidebar('.index-view').textContent(), /example\/unknown is not indexed on this codesearch server yet/);
    await sidebar('.index-view .primary').click();
    await sidebar('.job').waitFor();
    assert.equal(await sidebar('.job-stage').textContent(), 'Waiting for a worker');
    assert.equal(await sidebar('.job progress').getAttribute('value'), null, 'a queued job shows an indeterminate bar');
    await shot('indexing-requested');
  });

  it('when the server cannot be reached, the button says so and the panel offers to try again', async () => {
    const saveServer = async (url) => {
      await page.goto(`chrome-extension://${browser.extensionId}/options/options.html`);
      await page.locator('#server-url').fill(url);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('#status').filter({ hasText: 'Saved' }).waitFor();
    };
    await saveServer('http://127.0.0.1:9');  // the discard port: nothing listens there
    try {
      await page.goto(BLOB);
      await sidebar('.toggle[data-status=error]').waitFor({ state: 'attached' });
      assert.match(await sidebar('.toggle').getAttribute('title'), /could not say whether example\/sample is indexed/);
      if (await sidebar('.panel').isHidden()) await sidebar('.toggle').click();
      await sidebar('.error[role=alert]').waitFor();
      await sidebar('button.primary').filter({ hasText: 'Try again' }).waitFor();
      await shot('server-unreachable');
    } finally {
      await saveServer(SERVER);
    }
  });
});
