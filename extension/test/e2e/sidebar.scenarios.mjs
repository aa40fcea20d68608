// The extension in a real browser, on imitation GitHub pages, against the real server named by
// CODESEARCH_SERVER with example/sample indexed, and CODESEARCH_TOKEN an API token of that server allowed
// to request indexing (tests/test_extension_e2e.py sets both up). chromium.test.mjs and firefox.test.mjs
// run these same steps, in order: each starts where the one before left the browser.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildDirectory } from '../../build.mjs';
import { LAUNCHERS } from './browsers.mjs';
import { startFakeGitHub } from './fake-github.mjs';
import { SLOWDOWN, until, WAIT_MS } from './waits.mjs';

const SERVER = process.env.CODESEARCH_SERVER;
const TOKEN = process.env.CODESEARCH_TOKEN;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BLOB = 'https://github.com/example/sample/blob/0123abc/sample/storage.py';
const PULL = 'https://github.com/example/sample/pull/1/files';
const UNINDEXED = 'https://github.com/example/unknown';

/** A selector inside the sidebar's shadow root. */
const S = (selector) => `codesearch-sidebar >>> ${selector}`;

export function sidebarScenarios(browserName) {
  const screenshots = path.join(process.env.SCREENSHOT_DIR ?? path.join(REPO_ROOT, 'test-artifacts/screenshots/extension'),
    browserName === 'chromium' ? '' : browserName);
  const skip = (!SERVER || !TOKEN) && 'set CODESEARCH_SERVER (with example/sample indexed) and CODESEARCH_TOKEN (allowed to request indexing)';

  describe(`the extension in ${browserName}`, { skip, timeout: WAIT_MS.suite }, () => {
    let tmp; let github; let driver; let page;

    const shot = (name) => page.screenshot({ path: path.join(screenshots, `${name}.png`) });
    const text = (selector) => page.$eval(S(selector), (el) => el.textContent);
    const attribute = (selector, name) => page.$eval(S(selector), (el, n) => el.getAttribute(n), name);

    /**
     * Waits until the sidebar has an element matching `selector` ('attached'), shown ('visible') or not
     * shown ('hidden'). It polls: puppeteer's waitForSelector watches the document's mutations, which
     * don't include those inside the shadow root, and requestAnimationFrame stops in background tabs.
     */
    const inSidebar = (selector, state = 'attached') => page.waitForFunction((sel, st) => {
      const el = document.querySelector('codesearch-sidebar')?.shadowRoot?.querySelector(sel);
      const shown = Boolean(el) && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
      return { attached: Boolean(el), visible: shown, hidden: !shown }[st];
    }, { polling: 100 }, selector, state);
    const visible = (selector) => inSidebar(selector, 'visible');
    const hidden = (selector) => inSidebar(selector, 'hidden');
    const resultNames = () => page.$$eval(S('.result .func'), (els) => els.map((el) => el.textContent));
    /** Each result's name and what its kind badge reads. */
    const resultKinds = () => page.$$eval(S('.result'), (els) => els.map((el) =>
      [el.querySelector('.func').textContent, el.querySelector('.kind')?.textContent ?? null]));
    /** The element that has the keyboard's focus inside the sidebar. */
    const focused = () => page.evaluate(() => {
      const el = document.querySelector('codesearch-sidebar')?.shadowRoot?.activeElement;
      return el ? `${el.tagName.toLowerCase()}${el.name ? `[name=${el.name}]` : ''}${el.type === 'submit' ? '[type=submit]' : ''}` : null;
    });

    /** Waits until the sidebar's element has a text matching `pattern`. */
    const textMatches = (selector, pattern) => page.waitForFunction((sel, source, flags) => {
      const el = document.querySelector('codesearch-sidebar')?.shadowRoot?.querySelector(sel);
      return Boolean(el) && new RegExp(source, flags).test(el.textContent);
    }, { polling: 100 }, selector, pattern.source, pattern.flags);

    /** Waits until the sidebar's form field has exactly this value. */
    const fieldIs = (selector, value) => page.waitForFunction((sel, expected) =>
      document.querySelector('codesearch-sidebar')?.shadowRoot?.querySelector(sel)?.value === expected,
    { polling: 100 }, selector, value);

    /** The tab showing the options page, found by asking each tab where it is. */
    async function optionsTab() {
      for (const tab of await driver.browser.pages()) {
        if (tab === page) continue;
        // puppeteer's Firefox side doesn't follow navigations to moz-extension:// (tab.url() stays
        // about:blank), and a tab that is still navigating may not answer yet.
        const href = await Promise.race([tab.evaluate(() => location.href), new Promise((resolve) => setTimeout(resolve, 1000))]).catch(() => null);
        if (href === driver.optionsUrl) return tab;
      }
      return null;
    }

    /** Clicks something in the sidebar that opens the extension's options page; returns that page, ready. */
    async function openOptionsWith(selector) {
      await page.click(S(selector));
      const options = await until(optionsTab, 'the options page to open');
      options.setDefaultTimeout(WAIT_MS.step);
      // The fields are enabled once the saved settings are in them; typing earlier would be overwritten.
      await options.waitForSelector('#fields:not([disabled])');
      return options;
    }

    async function saveSettings(options, { serverUrl, token }) {
      await options.locator('#server-url').fill(serverUrl);
      if (token !== undefined) await options.locator('#api-token').fill(token);
      await options.click('button[type=submit]');
      // Until the background answers the check, the page says "Saved. Asking …": say so if it never does.
      await options.waitForFunction(() => /^Saved\. The server answers|^Saved, but/.test(document.getElementById('status').textContent), { polling: 100 })
        .catch(async (error) => {
          throw new Error(`the options page still says "${await options.$eval('#status', (el) => el.textContent)}"`, { cause: error });
        });
    }

    async function closeOptions(options) {
      await options.close();
      await page.bringToFront();
    }

    /** Opens the panel with its button unless it is open already. */
    async function openPanel() {
      if (await page.$eval(S('.panel'), (el) => el.hidden)) await page.click(S('.toggle'));
      await visible('.panel');
    }

    before(async () => {
      // The server first: a browser test of a server that isn't up would only time out, step by step.
      const health = await fetch(`${SERVER}/api/v1/health`);
      assert.equal(health.status, 200, `${SERVER} is not answering`);
      tmp = await mkdtemp(path.join(os.tmpdir(), `codesearch-e2e-${browserName}-`));
      await mkdir(screenshots, { recursive: true });
      github = await startFakeGitHub(tmp);
      const extensionDir = path.join(tmp, browserName);
      await buildDirectory(browserName, extensionDir);
      driver = await LAUNCHERS[browserName]({ extensionDir, github });
      page = driver.page;
      console.log(`# ${browserName} ${await driver.browser.version()}; waits up to ${WAIT_MS.step} ms (slowdown ${SLOWDOWN.toFixed(2)})`);
    });

    after(async () => {
      await driver?.browser.close();
      await github?.close();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    it('the options page, opened from the sidebar, saves the server address and checks it', async () => {
      // Before any settings the sidebar asks the default server; whatever it answers, Settings is there.
      await page.goto(BLOB);
      await inSidebar('.toggle:not([data-status=asking])');
      await openPanel();
      const options = await openOptionsWith('footer button.link');
      await saveSettings(options, { serverUrl: `${SERVER}/`, token: '' });
      assert.equal(await options.$eval('#status', (el) => el.className), 'ok');
      const { repositories } = await (await fetch(`${SERVER}/api/v1/health`)).json();
      assert.ok(repositories >= 2, `the search across repositories needs two indexed, the server has ${repositories}`);
      assert.match(await options.$eval('#status', (el) => el.textContent), new RegExp(`The server answers: ${repositories} indexed repositories\\.`));
      assert.equal(await options.$eval('#server-url', (el) => el.value), SERVER);
      await options.screenshot({ path: path.join(screenshots, 'options.png') });
      await closeOptions(options);
      await page.click(S('.close'));
      await hidden('.panel');
    });

    it('on a repository page a button appears, and GitHub keeps its layout', async () => {
      await page.goto(BLOB);
      // The button says it is asking until the server's answer about the repository arrives.
      await inSidebar('.toggle[data-status=indexed]');
      assert.equal(await page.$eval(S('.panel'), (el) => el.hidden), true);
      assert.match(await attribute('.toggle', 'title'), /Search example\/sample/);
      await shot('blob-page');
    });

    it('Alt+Shift+S opens the sidebar without moving the page; a query shows highlighted, linked results', async () => {
      const mainBox = await (await page.$('main')).boundingBox();
      await driver.pressSidebarShortcut(page);
      await visible('.panel');
      assert.deepEqual(await (await page.$('main')).boundingBox(), mainBox);
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);

      // GitHub's one-key shortcuts listen on the document: typing in the sidebar must not reach them.
      await page.evaluate(() => {
        window.keysSeenByPage = 0;
        document.addEventListener('keydown', () => { window.keysSeenByPage += 1; });
      });
      await page.type(S('input[name=q]'), 'compute a checksum of a file');
      await page.keyboard.press('Enter');
      await textMatches('.status', /results? for “compute a checksum of a file”$/);
      assert.equal(await page.evaluate(() => window.keysSeenByPage), 0);
      const names = await resultNames();
      assert.ok(names.slice(0, 3).includes('fingerprint'), names.join(', '));
      const first = await page.$$(S('.result')).then((results) => results[names.indexOf('fingerprint')]);
      const inFirst = (selector, read) => first.$eval(selector, read);
      assert.equal(await inFirst('.location', (el) => el.textContent), 'sample/storage.py:8–14');
      assert.equal(await inFirst('.location', (el) => el.getAttribute('href')),
        'https://github.com/example/sample/blob/0123abc/sample/storage.py#L8-L14');
      assert.match(await inFirst('.rating', (el) => el.textContent), /^\d+%$/);
      assert.ok(await first.$$eval('pre.hl .k', (els) => els.length) > 0, 'keywords are highlighted');
      assert.equal(await first.$$eval('.line', (els) => els.length), 7);
      assert.equal(await inFirst('.kind', (el) => el.textContent), 'function');
      assert.equal(await text('.status'), '10 results for “compute a checksum of a file”');
      await shot('query-results');
    });

    it("GitHub's styles stay out of the sidebar and the sidebar's stay out of the page", async () => {
      const style = (selector, property) => page.$eval(selector, (el, p) => getComputedStyle(el)[p], property);
      assert.equal(await style(S('.tab'), 'borderTopWidth'), '0px');
      assert.doesNotMatch(await style(S('pre.hl'), 'fontFamily'), /^serif/);
      assert.equal(await style(S('.results'), 'listStyleType'), 'none');
      assert.equal(await style('header .rating', 'backgroundColor'), 'rgb(130, 80, 223)');
    });

    it('"Similar functions" lists the functions like a result, and Back returns to the results', async () => {
      const names = await resultNames();
      const results = await page.$$(S('.result'));
      await (await results[names.indexOf('fingerprint')].$('.similar')).click();
      await textMatches('.status', /results? similar to fingerprint$/);
      assert.equal(await text('.status'), '10 results similar to fingerprint');
      const similar = await resultNames();
      assert.ok(similar.length > 0 && !similar.includes('fingerprint'), similar.join(', '));
      // Similar code is found by its code, not by words: nothing to say it matched by, nothing marked.
      assert.equal(await page.$(S('.result .matched')), null);
      assert.equal(await page.$(S('.result pre.hl mark')), null);
      await shot('similar');
      await page.click(S('.back'));
      await textMatches('.status', /results? for “compute a checksum of a file”$/);
      assert.deepEqual(await resultNames(), names);
    });

    it('a result of a search by words says which tokens it matched by, from its name or not, and marks them in its code, as the server says', async () => {
      const query = 'hash digest of a file';
      await page.$eval(S('input[name=q]'), (el) => { el.value = ''; });
      await page.type(S('input[name=q]'), query);
      await page.keyboard.press('Enter');
      await textMatches('.status', new RegExp(`^\\d+ results? for “${query}”$`));
      // What the server answers the sidebar's request (the same query, every kind, 10 results).
      const api = new URL(`${SERVER}/api/v1/repositories/example/sample/search`);
      api.search = new URLSearchParams({ q: query, limit: '10' }).toString();
      const [top] = (await (await fetch(api)).json()).results;
      assert.ok(top?.matched?.length > 0, `the server names no tokens for its first result: ${JSON.stringify(top)}`);

      const first = await page.$(S('.result'));
      assert.equal(await first.$eval('.func', (el) => el.textContent), top.func_name);
      assert.equal(await first.$eval('.location', (el) => el.textContent), `${top.path}:${top.start_line}–${top.end_line}`);
      // "Matched by …": the server's tokens in its order, each saying where it came from (name and doc in words)
      // and its share of the match, as a tooltip and to screen readers.
      const line = await first.$eval('.matched', (el) => ({
        text: el.textContent,
        tokens: [...el.querySelectorAll('.token')].map((token) => ({
          token: token.firstChild.textContent,
          source: token.className.replace(/^token token-/, ''),
          said: token.querySelector('.source')?.textContent ?? null,
          title: token.getAttribute('title'),
          hidden: token.querySelector('.visually-hidden')?.textContent ?? null,
        })),
      }));
      assert.match(line.text, /^Matched by \S/);
      const percent = (share) => (Math.round(share * 100) < 1 ? 'under 1%' : `${Math.round(share * 100)}%`);
      assert.deepEqual(line.tokens, top.matched.map(({ token, share, source }) => ({
        token, source, said: source === 'code' ? null : ` (${source})`,
        title: `${percent(share)} of the match, from its ${source}`, hidden: `, ${percent(share)} of the match`,
      })));

      // The marks in its code: at least one, each an identifier or a part of one that is a token from the name
      // or the code (compared lower-cased, an identifier without its leading and trailing _ and $).
      const marked = new Set(top.matched.filter(({ source }) => source !== 'doc').map(({ token }) => token));
      const marks = await first.$$eval('pre.hl mark', (els) => els.map((el) => ({
        text: el.textContent, parent: el.parentElement.className, background: getComputedStyle(el).backgroundColor,
      })));
      assert.ok(marks.length > 0, `nothing marked for ${JSON.stringify(top.matched)}`);
      for (const mark of marks) {
        assert.ok(marked.has(mark.text.replace(/^[_$]+|[_$]+$/g, '').toLowerCase()), `${mark.text} is none of ${[...marked]}`);
        // Inside its token's span, which keeps its syntax class (or in the line, for plain text).
        assert.match(mark.parent, /^([a-z][a-z0-9]{0,3}|line)$/);
        assert.notEqual(mark.background, 'rgba(0, 0, 0, 0)');
      }
      // Marking adds elements, not text: the lines still read as the code.
      const shown = await first.$$eval('.line', (els) => els.map((el) => [...el.childNodes].slice(1).map((node) => node.textContent).join('')));
      assert.deepEqual(shown, top.code.replace(/\n$/, '').split('\n'));
      await shot('matched');
    });

    it('results show their kind, a class among them; the kind filter, chosen with the keyboard, keeps classes only and is remembered; blocks say whose lines they are', async () => {
      const query = 'a stopwatch that records lap times';
      await page.$eval(S('input[name=q]'), (el) => { el.value = ''; });
      await page.type(S('input[name=q]'), query);
      await page.keyboard.press('Enter');
      await textMatches('.status', new RegExp(`^\\d+ results? for “${query}”$`));
      const all = await resultKinds();
      assert.ok(all.every(([, kind]) => ['function', 'class', 'block'].includes(kind)), JSON.stringify(all));
      const classes = all.filter(([, kind]) => kind === 'class').map(([name]) => name);
      assert.ok(classes.length > 0, `no class among ${JSON.stringify(all)}`);
      const badge = await page.$$(S('.result .kind-class')).then((badges) => badges[0]);
      assert.match(await badge.evaluate((el) => el.getAttribute('title')), /^a class/);
      assert.notEqual(await badge.evaluate((el) => getComputedStyle(el).display), 'none');
      await shot('kinds');

      // From the query field, Tab reaches the kind filter (the fixture has one language, so no language
      // filter), typing "c" chooses "classes", and Tab and Enter search again.
      const options = await page.$$eval(S('.query-form select[name=kind] option'), (els) => els.map((el) => el.value));
      assert.deepEqual(options.slice(0, 2), ['', 'function']);
      assert.ok(options.includes('class'), options.join(', '));
      await page.focus(S('input[name=q]'));
      await page.keyboard.press('Tab');
      assert.equal(await focused(), 'select[name=kind]');
      await page.keyboard.press('c');
      await fieldIs('.query-form select[name=kind]', 'class');
      await page.keyboard.press('Tab');
      assert.equal(await focused(), 'button[type=submit]');
      await page.keyboard.press('Enter');
      await textMatches('.status', new RegExp(`^\\d+ class(es)? for “${query}”$`));
      const filtered = await resultKinds();
      assert.ok(filtered.length > 0 && filtered.every(([, kind]) => kind === 'class'), JSON.stringify(filtered));
      for (const name of classes) assert.ok(filtered.some(([found]) => found === name), `${name} not in ${JSON.stringify(filtered)}`);
      await shot('kind-filter-classes');

      // A full page load shows the tab's last search again, with its kind.
      await page.reload();
      await visible('.panel');
      await fieldIs('input[name=q]', query);
      await fieldIs('.query-form select[name=kind]', 'class');
      await textMatches('.status', new RegExp(`^\\d+ class(es)? for “${query}”$`));
      assert.deepEqual(await resultKinds(), filtered);

      // Blocks, offered when the server says the repository has some: each says which lines of which function it is.
      const { kinds } = await (await fetch(`${SERVER}/api/v1/repositories/example/sample`)).json();
      const offered = await page.$$eval(S('.query-form select[name=kind] option'), (els) => els.map((el) => el.value));
      assert.equal(offered.includes('block'), kinds.block > 0, JSON.stringify(kinds));
      if (kinds.block > 0) {
        await page.select(S('.query-form select[name=kind]'), 'block');
        await page.click(S('.query-form button[type=submit]'));
        await textMatches('.status', new RegExp(`^\\d+ blocks? for “${query}”$`));
        const blocks = await page.$$eval(S('.result'), (els) => els.map((el) => ({
          name: el.querySelector('.func').textContent, kind: el.querySelector('.kind').textContent,
          title: el.querySelector('.kind').getAttribute('title'), where: el.querySelector('.location').textContent,
        })));
        assert.ok(blocks.length > 0, 'no blocks');
        for (const { name, kind, title, where } of blocks) {
          assert.equal(kind, 'block');
          const [, first, last] = where.match(/:(\d+)–(\d+)$/);
          assert.equal(title, `${first === last ? `line ${first}` : `lines ${first}–${last}`} of ${name}`);
        }
        await shot('kind-filter-blocks');
      }
    });

    it('path: in the query narrows the results to a file, and the heading names it; a hint under the field says how', async () => {
      // The hint is shown, and read with the query field.
      const hint = await attribute('input[name=q]', 'aria-describedby');
      await visible(`#${hint}`);
      assert.equal(await text(`#${hint}`), 'Narrow with path:folder, path:file.py or path:*.py');

      /** Each result's file, from its location ("sample/mailer.py:5–9"). */
      const files = () => page.$$eval(S('.result .location'), (els) => els.map((el) => el.textContent.replace(/:\d+(–\d+)?$/, '')));
      const search = async (query) => {
        await page.$eval(S('input[name=q]'), (el) => { el.value = ''; });
        await page.type(S('input[name=q]'), query);
        await page.keyboard.press('Enter');
      };
      // Every kind again (the step before chose one), so that only the path narrows.
      if (await page.$(S('.query-form select[name=kind]'))) await page.select(S('.query-form select[name=kind]'), '');

      await search('send mail');
      await textMatches('.status', /^\d+ results? for “send mail”$/);
      const everywhere = await files();
      assert.ok(new Set(everywhere).size > 1, `the words alone find one file only: ${everywhere.join(', ')}`);
      assert.ok(everywhere.includes('sample/mailer.py'), everywhere.join(', '));

      // Filters alone are no query: the server says what to type.
      await search('path:mailer.py');
      await textMatches('.results-body .error[role=alert]', /^type what the code should do/);

      // The query goes as typed; the server keeps the results in files named mailer.py, in any folder.
      await search('send mail path:mailer.py');
      await textMatches('.status', /^\d+ results? in mailer\.py for “send mail”$/);
      assert.equal(await text('.status code.path-filter'), 'mailer.py');
      const narrowed = await files();
      assert.ok(narrowed.length > 0, 'no results in mailer.py');
      assert.ok(narrowed.every((file) => file === 'sample/mailer.py'), narrowed.join(', '));
      assert.ok((await resultNames()).includes('deliver'), (await resultNames()).join(', '));
      await fieldIs('input[name=q]', 'send mail path:mailer.py');
      await shot('path-filter');
    });

    it('a mistyped query says what the server searched instead, as text, above the count, in either scope; one typed right says nothing', async () => {
      const typed = '<b>sned</b> mial path:mailer.py';
      const radio = (scope) => S(`.query-form input[name=scope][value=${scope}]`);
      const escaped = (textToMatch) => textToMatch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      /** What the server answers the sidebar's request (every kind, 10 results) at `endpoint`. */
      const answer = async (endpoint, q) => {
        const api = new URL(`${SERVER}/api/v1/${endpoint}`);
        api.search = new URLSearchParams({ q, limit: '10' }).toString();
        return (await fetch(api)).json();
      };
      /** The results' head as the sidebar shows it: the line saying what was searched (if any), the count. */
      const head = () => page.$eval(S('.results-head'), (el) => ({
        corrected: el.querySelector('.corrected')?.textContent ?? null,
        markup: el.querySelectorAll('.corrected b, .corrected script').length,
        order: [...el.children].map((child) => child.className),
      }));
      assert.equal(await page.$eval(radio('repository'), (el) => el.checked), true);
      if (await page.$(S('.query-form select[name=kind]'))) await page.select(S('.query-form select[name=kind]'), '');

      await page.$eval(S('input[name=q]'), (el) => { el.value = ''; });
      await page.type(S('input[name=q]'), typed);
      await page.keyboard.press('Enter');
      await textMatches('.status', new RegExp(`^\\d+ results? in mailer\\.py for “${escaped('<b>sned</b> mial')}”$`));
      const here = await answer('repositories/example/sample/search', typed);
      assert.equal(here.corrected, '<b>send</b> mail path:mailer.py');
      assert.deepEqual(await head(), { corrected: `Showing results for ${here.corrected}`, markup: 0, order: ['corrected', 'status'] });
      assert.deepEqual(await resultNames(), here.results.map((r) => r.func_name));
      await shot('corrected-query');

      // Across every repository the global index's words correct it.
      await page.click(radio('all'));
      await textMatches('.status', /across all repositories for /);
      const everywhere = await answer('search', typed);
      assert.equal(everywhere.corrected, '<b>send</b> mail path:mailer.py');
      assert.deepEqual(await head(), { corrected: `Showing results for ${everywhere.corrected}`, markup: 0, order: ['corrected', 'status'] });
      await page.click(radio('repository'));
      await textMatches('.status', /^\d+ results? in mailer\.py for /);

      await page.$eval(S('input[name=q]'), (el) => { el.value = ''; });
      await page.type(S('input[name=q]'), 'send mail path:mailer.py');
      await page.keyboard.press('Enter');
      await textMatches('.status', /^\d+ results? in mailer\.py for “send mail”$/);
      assert.equal((await answer('repositories/example/sample/search', 'send mail path:mailer.py')).corrected, null);
      assert.deepEqual(await head(), { corrected: null, markup: 0, order: ['status'] });
    });

    it('"All indexed repositories" searches the typed words again across every repository: results of both, each naming its own, linked to its lines; the scope is remembered', async () => {
      const query = 'html banner markup';
      const radio = (scope) => S(`.query-form input[name=scope][value=${scope}]`);
      const headingIs = (pattern) => textMatches('.results-head .status', pattern);
      /** Each result as the sidebar shows it: repository (if named), name, kind, location and its link. */
      const shown = () => page.$$eval(S('.result'), (els) => els.map((el) => ({
        repository: el.querySelector('.repository')?.textContent ?? null,
        repositoryHref: el.querySelector('.repository')?.getAttribute('href') ?? null,
        name: el.querySelector('.func').textContent,
        kind: el.querySelector('.kind').textContent,
        where: el.querySelector('.location').textContent,
        href: el.querySelector('.location').getAttribute('href'),
        matched: Boolean(el.querySelector('.matched')),
      })));
      assert.equal(await text('.query-form .scope'), 'This repositoryAll indexed repositories');
      assert.equal(await attribute('.query-form .scope', 'role'), 'radiogroup');
      assert.equal(await page.$eval(radio('repository'), (el) => el.checked), true);
      if (await page.$(S('.query-form select[name=kind]'))) await page.select(S('.query-form select[name=kind]'), '');

      // First in this repository, as the sidebar starts: only example/sample's code, no repository named.
      await page.$eval(S('input[name=q]'), (el) => { el.value = ''; });
      await page.type(S('input[name=q]'), query);
      await page.keyboard.press('Enter');
      await headingIs(new RegExp(`^\\d+ results? for “${query}”$`));
      const here = await shown();
      assert.ok(here.length > 0 && here.every(({ href, repository }) =>
        href.startsWith('https://github.com/example/sample/blob/0123abc/') && repository === null), JSON.stringify(here));

      // Choosing "All indexed repositories" searches the same words again, across every repository.
      await page.click(radio('all'));
      await headingIs(new RegExp(`^\\d+ results? across all repositories for “${query}”$`));
      assert.equal(await page.$eval(radio('all'), (el) => el.checked), true);
      const api = new URL(`${SERVER}/api/v1/search`);
      api.search = new URLSearchParams({ q: query, limit: '10' }).toString();
      const expected = (await (await fetch(api)).json()).results;
      const everywhere = await shown();
      assert.deepEqual(everywhere, expected.map((r) => ({
        repository: r.repository,
        repositoryHref: `https://github.com/${r.repository}/tree/${r.url.match(/\/blob\/([^/]+)\//)[1]}`,
        name: r.func_name,
        kind: r.kind,
        where: `${r.path}:${r.start_line}–${r.end_line}`,
        href: r.url,
        matched: r.matched.length > 0,
      })));
      assert.deepEqual(new Set(everywhere.map(({ repository }) => repository)), new Set(['example/sample', 'example/hostile']));
      assert.equal(await text('.results-head .status'), `${expected.length} results across all repositories for “${query}”`);
      // example/hostile's code is markup: its lines read as the code, and none of it became elements.
      const lines = await page.$$eval(S('.result'), (els) => els.map((el) => [...el.querySelectorAll('.line')]
        .map((line) => [...line.childNodes].slice(1).map((node) => node.textContent).join(''))));
      expected.forEach((r, i) => assert.deepEqual(lines[i], r.code.replace(/\n$/, '').split('\n'), r.func_name));
      assert.ok(expected.some((r) => r.repository === 'example/hostile' && /<(script|img|div)\b/.test(r.code)), 'no markup among the results');
      assert.equal(await page.evaluate(() => document.querySelector('codesearch-sidebar').shadowRoot
        .querySelectorAll('script, img, iframe, .banner').length), 0);
      assert.notEqual(await page.title(), 'pwned');
      await shot('all-repositories');

      // Every language and kind is offered there; the kind filter narrows the results across repositories.
      assert.deepEqual(await page.$$eval(S('.query-form select[name=language] option'), (els) => els.map((el) => el.value)),
        ['', 'go', 'java', 'javascript', 'php', 'python', 'ruby']);
      assert.deepEqual(await page.$$eval(S('.query-form select[name=kind] option'), (els) => els.map((el) => el.textContent)),
        ['all kinds', 'functions', 'classes', 'blocks']);
      await page.select(S('.query-form select[name=kind]'), 'function');
      await page.click(S('.query-form button[type=submit]'));
      await headingIs(new RegExp(`^\\d+ functions? across all repositories for “${query}”$`));
      const functions = await shown();
      assert.ok(functions.length > 0 && functions.every(({ kind, repository }) => kind === 'function' && repository), JSON.stringify(functions));

      // A full page load shows the search again, with its scope and kind.
      await page.reload();
      await visible('.panel');
      await fieldIs('input[name=q]', query);
      await headingIs(new RegExp(`^\\d+ functions? across all repositories for “${query}”$`));
      assert.equal(await page.$eval(radio('all'), (el) => el.checked), true);
      assert.deepEqual(await shown(), functions);

      // Back to this repository: the same words, here only.
      await page.click(radio('repository'));
      await headingIs(new RegExp(`^\\d+ functions? for “${query}”$`));
      assert.equal(await page.$(S('.result .repository')), null);
      assert.ok((await shown()).every(({ href }) => href.startsWith('https://github.com/example/sample/')));
    });

    it('the shortcut, Escape and the button close and open it', async () => {
      await driver.pressSidebarShortcut(page);
      await hidden('.panel');
      await page.click(S('.toggle'));
      await visible('.panel');
      await page.focus(S('input[name=q]'));
      await page.keyboard.press('Escape');
      await hidden('.panel');
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
      // The menu opens where the user right-clicks: on the selected first line (the textarea lies over the lines).
      const point = await page.$eval('#LC17', (line) => {
        const box = line.getBoundingClientRect();
        return { x: box.left + 100, y: box.top + box.height / 2 };
      });
      await driver.searchByCodeFromMenu(page, point, code);
      await visible('.panel');
      await fieldIs('textarea[name=code]', code);
      await textMatches('.status', /^\d+ results? like this python code$/);
      assert.equal(await page.$eval(S('.code-form select[name=language]'), (el) => el.value), 'python');
      assert.equal(await text('.tab[aria-selected=true]'), 'Search by code');
      assert.equal((await resultNames())[0], 'shrink');
      await shot('search-by-code-blob');
    });

    it('in a pull-request diff the language comes from the diff header of the selected lines', async () => {
      await page.goto(PULL);
      // The sidebar was open in this tab: it opens again on the new page, with the last search.
      await visible('.panel');
      await page.waitForFunction(() => document.querySelector('codesearch-sidebar')
        .shadowRoot.querySelector('textarea[name=code]')?.value.startsWith('def shrink'), { polling: 100 });
      const { code, point } = await page.evaluate(() => {
        const cells = [...document.querySelectorAll('.blob-code-inner')];
        const first = cells.find((cell) => cell.textContent.startsWith('def compose'));
        const last = cells.find((cell) => cell.textContent.includes('return message'));
        const range = document.createRange();
        range.setStart(first, 0);
        range.setEnd(last, last.childNodes.length);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        const box = first.getBoundingClientRect();
        return { code: getSelection().toString(), point: { x: box.left + 40, y: box.top + box.height / 2 } };
      });
      assert.match(code, /^def compose[^]*return message$/);
      await driver.searchByCodeFromMenu(page, point, code);
      await fieldIs('textarea[name=code]', code);
      await textMatches('.status', /like this python code$/);
      assert.equal(await page.$eval(S('.code-form select[name=language]'), (el) => el.value), 'python');
      assert.ok((await resultNames()).slice(0, 3).includes('compose'), (await resultNames()).join(', '));
      await shot('search-by-code-pull-request');
    });

    it('an unindexed repository says so; indexing it needs a token, which the options take; then the job shows', async () => {
      await page.goto(UNINDEXED);
      await inSidebar('.toggle[data-status=not-indexed]');
      assert.match(await attribute('.toggle', 'title'), /not indexed/);
      await openPanel();
      assert.match(await text('.index-view'), /^example\/unknown is not indexed on this codesearch server yet\.Indexing reads/);

      // No token yet: the server refuses (401) and the sidebar says how to get access.
      await page.click(S('.index-view button.primary'));
      await textMatches('.index-view .error[role=alert]', /needs an access token from this server’s staff; paste it in the extension’s options/);
      await shot('indexing-needs-token');

      const options = await openOptionsWith('.index-view .open-settings');
      assert.equal(await options.$eval('#server-url', (el) => el.value), SERVER);
      await saveSettings(options, { serverUrl: SERVER, token: TOKEN });
      assert.equal(await options.$eval('#status', (el) => el.className), 'ok');
      await closeOptions(options);

      await page.click(S('.index-view button.primary'));
      await visible('.job');
      assert.equal(await text('.job-stage'), 'Waiting for a worker');
      assert.equal(await attribute('.job progress', 'value'), null, 'a queued job shows an indeterminate bar');
      assert.equal(await page.$(S('.index-view .error')), null);
      await shot('indexing-requested');
    });

    it('a repository that is not indexed can still search all indexed repositories, each result naming its own', async () => {
      // The panel of the step before: example/unknown's job, and under it the search across every repository.
      await visible('.index-view .job');
      assert.equal(await text('.search-everywhere .everywhere-title'), 'Search all indexed repositories');
      assert.equal(await page.$(S('.scope')), null);
      assert.equal(await page.$(S('.tab')), null);
      const query = 'send mail';
      await page.type(S('.search-everywhere input[name=q]'), query);
      await page.keyboard.press('Enter');
      await textMatches('.search-everywhere .status', new RegExp(`^\\d+ results? across all repositories for “${query}”$`));
      const api = new URL(`${SERVER}/api/v1/search`);
      api.search = new URLSearchParams({ q: query, limit: '10' }).toString();
      const expected = (await (await fetch(api)).json()).results;
      assert.ok(expected.length > 0);
      const shown = await page.$$eval(S('.search-everywhere .result'), (els) => els.map((el) => [
        el.querySelector('.repository').textContent, el.querySelector('.func').textContent, el.querySelector('.location').getAttribute('href'),
      ]));
      assert.deepEqual(shown, expected.map((r) => [r.repository, r.func_name, r.url]));
      // The job is still shown above: searching left it alone.
      assert.equal(await text('.job-stage'), 'Waiting for a worker');
      await shot('unindexed-all-repositories');
    });

    it('when the server cannot be reached, the button says so and the panel offers to try again', async () => {
      await page.goto(BLOB);
      await openPanel();
      const options = await openOptionsWith('footer button.link');
      await saveSettings(options, { serverUrl: 'http://127.0.0.1:9' }); // the discard port: nothing listens there
      await closeOptions(options);
      try {
        await page.goto(BLOB);
        await inSidebar('.toggle[data-status=error]');
        assert.match(await attribute('.toggle', 'title'), /could not say whether example\/sample is indexed/);
        await openPanel();
        await visible('.error[role=alert]');
        await textMatches('button.primary', /^Try again$/);
        await shot('server-unreachable');
      } finally {
        await openPanel();
        const restore = await openOptionsWith('footer button.link');
        // The token field shows the token saved for the address typed; back on SERVER it is SERVER's again.
        await saveSettings(restore, { serverUrl: SERVER });
        assert.equal(await restore.$eval('#api-token', (el) => el.value), TOKEN);
        await closeOptions(restore);
      }
    });
  });
}
