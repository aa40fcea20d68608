// The pages in a real Chromium, driven by playwright-core: search, filter by language, similar
// snippets, search by code, the repository list, the API docs; at desktop and phone widths.
// Run by tests/test_browser_pages.py against a live Django server: BASE_URL and SCREENSHOT_DIR are set.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR || "test-artifacts/screenshots";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
let browser;

before(async () => {
  assert.ok(BASE, "BASE_URL must point at the server");
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
});

// A page that fails the test on script errors, CSP violations, dialogs (injected markup running)
// and requests leaving the server under test.
async function open(path, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (msg) => { if (msg.type() === "error") page.problems.push(`console: ${msg.text()}`); });
  page.on("pageerror", (error) => page.problems.push(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => { page.problems.push(`dialog: ${dialog.message()}`); await dialog.dismiss(); });
  page.on("request", (request) => {
    if (!request.url().startsWith(BASE) && !request.url().startsWith("data:")) {
      page.problems.push(`external request: ${request.url()}`);
    }
  });
  await page.goto(BASE + path);
  return page;
}

// Screenshot, then check the page: no sideways scrolling, every control labelled (our pages only),
// no problems but those `expected` (an error page's own 400 status).
async function done(page, name, { expected = null, ownPage = true } = {}) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than the window`);
  const unlabelled = !ownPage ? [] : await page.$$eval("input:not([type=hidden]), select, textarea, button",
    (els) => els.filter((el) => !el.labels?.length && !el.getAttribute("aria-label") && !el.textContent.trim())
      .map((el) => el.outerHTML));
  assert.deepEqual(unlabelled, [], `${name}: controls without a label`);
  const problems = page.problems.filter((problem) => !(expected && expected.test(problem)));
  assert.deepEqual(problems, [], `${name}: problems in the page`);
  await page.context().close();
}

function results(page) {
  return page.locator("li.result");
}

test("repository list: filter, job progress, request a repository", async () => {
  const page = await open("/");
  const repos = page.locator("li.repo");
  await assert.doesNotReject(repos.filter({ hasText: "example/sample" }).waitFor());
  assert.equal(await repos.count(), 3);
  const job = page.locator(".job");
  assert.match(await job.textContent(), /Indexing: embedding \(42%\)/);

  // The filter box hides what doesn't match, and says so.
  await page.getByLabel("Filter").fill("hostile");
  assert.equal(await repos.filter({ visible: true }).count(), 1);
  await page.getByLabel("Filter").fill("no-such-thing");
  await page.getByText("No repository matches the filter.").waitFor();
  await page.getByLabel("Filter").fill("");
  assert.equal(await repos.filter({ visible: true }).count(), 3);

  // The page follows the running job through the API until it ends.
  let progress = 0.75;
  await page.route("**/api/v1/jobs/*", async (route) => {
    const real = await (await route.fetch()).json();
    await route.fulfill({ json: { ...real, progress, status: progress < 1 ? "running" : "succeeded" } });
  });
  await job.getByText("Indexing: embedding (75%)").waitFor({ timeout: 5000 });
  assert.equal(await job.locator("progress").evaluate((bar) => bar.value), 0.75);
  await done(page, "home-desktop");

  // Strangers are told how to get access; a user with the permission signs in and asks.
  const phone = await open("/", PHONE);
  await phone.getByText("Asking this server to index a repository needs an account").waitFor();
  await phone.locator("#index-access").getByRole("link", { name: "sign in" }).click();
  await phone.getByLabel("User name").fill(process.env.INDEXER_USERNAME);
  await phone.getByLabel("Password").fill(process.env.INDEXER_PASSWORD);
  await phone.getByRole("button", { name: "Sign in" }).click();
  await phone.getByRole("button", { name: `Sign out ${process.env.INDEXER_USERNAME}` }).waitFor();
  await phone.getByLabel("GitHub repository").fill("psf/requests");
  await phone.getByLabel("Commit or tag").fill("v2.32.0");
  await phone.getByRole("button", { name: "Request indexing" }).click();
  await phone.getByText("psf/requests is queued for indexing").waitFor();
  assert.match(await phone.locator("li.repo", { hasText: "psf/requests" }).textContent(), /Queued for indexing/);
  await done(phone, "home-phone");
});

test("search a repository with the keyboard, filter by language, open similar snippets", async () => {
  const page = await open("/example/sample/");
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "q");
  await page.keyboard.type("send an email message");
  await page.keyboard.press("Enter");
  await page.waitForURL(/q=send\+an\+email\+message/);
  assert.equal(await results(page).count(), 10);
  const first = results(page).first();
  assert.match(await first.locator(".rating").textContent(), /^\d{1,3}% match$/);
  const github = await first.getByRole("link", { name: /on GitHub/ }).getAttribute("href");
  assert.match(github, /^https:\/\/github\.com\/example\/sample\/blob\/0123abc\/sample\/.+#L\d+-L\d+$/);
  assert.ok(await first.locator(".code .hl .k").count() > 0, "the code is highlighted");
  await done(page, "repository-search-desktop");

  const phone = await open("/example/sample/?q=send+an+email+message", PHONE);
  await phone.getByLabel("Language").selectOption("python");
  await phone.getByRole("button", { name: "Search" }).click();
  await phone.waitForURL(/language=python/);
  assert.equal(await results(phone).count(), 10);
  assert.deepEqual([...new Set(await phone.locator("li.result .badge:not(.kind)").allTextContents())], ["python"]);
  await done(phone, "repository-search-phone");

  const snippetPage = await open("/example/sample/?q=send+an+email+message");
  const name = await results(snippetPage).first().locator("h3").textContent();
  await results(snippetPage).first().getByRole("link", { name: /^Similar snippets/ }).click();
  await snippetPage.getByRole("heading", { name: "Similar functions in example/sample" }).waitFor();
  assert.equal(await snippetPage.locator("#snippet-title").textContent(), name);
  assert.equal(await results(snippetPage).count(), 10);
  assert.ok(!(await results(snippetPage).locator("h3").allTextContents()).includes(name));
  await done(snippetPage, "snippet-desktop");
  const phoneSnippet = await open(new URL(snippetPage.url()).pathname, PHONE);
  await done(phoneSnippet, "snippet-phone");
});

test("classes and blocks, the kind filter, path filters and why a result matched", async () => {
  const page = await open("/example/sample/?q=sales+report+per+product");
  const kinds = new Set(await page.locator("li.result .badge.kind").allTextContents());
  assert.ok(kinds.has("class") && kinds.has("block") && kinds.has("function"), [...kinds].join(", "));
  const block = results(page).filter({ has: page.locator(".badge.kind-block") }).first();
  assert.match(await block.locator(".badge.kind").getAttribute("title"), /^lines of monthly_report$/);
  await page.getByLabel("Kind").selectOption("class");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/kind=class/);
  assert.deepEqual([...new Set(await page.locator("li.result .badge.kind").allTextContents())], ["class"]);
  await done(page, "kind-filter-desktop");

  const narrowed = await open(`/example/sample/?q=${encodeURIComponent("send mail path:mailer.py")}`);
  const places = await narrowed.locator("li.result .location a:first-child").allTextContents();
  assert.ok(places.length > 0 && places.every((place) => place.startsWith("sample/mailer.py:")), places.join(", "));
  assert.equal(await narrowed.getByRole("searchbox").inputValue(), "send mail path:mailer.py");

  const why = await open("/example/sample/?q=hash+digest+of+a+file");
  const first = results(why).first();
  const tokens = (await first.locator(".matched .token").allTextContents()).map((t) => t.split(" ")[0]);
  assert.ok(tokens.length > 0, "the first result says what it matched by");
  const marked = await first.locator(".code mark").allTextContents();
  assert.ok(marked.length > 0 && marked.every((m) => tokens.includes(m.toLowerCase().replace(/^[_$]+|[_$]+$/g, ""))), `${marked} / ${tokens}`);
  await done(why, "why-it-matched-desktop");
});

test("search by code detects the language", async () => {
  const page = await open("/example/sample/");
  await page.getByRole("link", { name: "Paste code" }).click();
  const box = page.getByLabel(/^Paste code/);
  await box.fill("def digest_of(path):\n    with open(path, 'rb') as f:\n        return hashlib.sha256(f.read()).hexdigest()\n");
  await box.press("Control+Enter");
  await page.getByText("Detected language: python").waitFor();
  assert.equal(await results(page).count(), 10);
  assert.equal(await results(page).first().locator("h3").textContent(), "fingerprint");
  await done(page, "code-search-desktop");

  const phone = await open("/example/sample/code/", PHONE);
  await phone.getByLabel(/^Paste code/).fill("def greet(name)\n  puts \"hi #{name}\"\nend\n");
  await phone.getByRole("button", { name: "Find similar functions" }).click();
  await phone.getByRole("alert").filter({ hasText: "looks like ruby code" }).waitFor();
  await done(phone, "code-search-error-phone", { expected: /status of 400/ });
});

test("search everywhere from the home page; markup in code stays text", async () => {
  const page = await open("/", PHONE);
  await page.getByRole("searchbox", { name: "What should the code do?" }).fill("html banner markup");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/search\/\?q=html/);
  assert.equal(await results(page).count(), 10);
  assert.ok(await page.locator(".repo-link", { hasText: "example/hostile" }).count() > 0);
  assert.ok(await page.locator(".repo-link", { hasText: "example/sample" }).count() > 0);
  await done(page, "search-all-phone");

  const hostile = await open("/example/hostile/?q=banner");
  await hostile.getByText('<script>alert("doc")</script>').first().waitFor();
  assert.equal(await hostile.locator(".code script, .code img, .code iframe").count(), 0);
  assert.doesNotMatch(await hostile.title(), /pwned/);
  await done(hostile, "hostile-desktop");
});

test("API docs work offline", async () => {
  const page = await open("/api/v1/docs");
  await page.locator(".swagger-ui .info .title").filter({ hasText: "codesearch" }).waitFor();
  await page.getByText("/api/v1/repositories/{owner}/{name}/search-by-code").first().waitFor();
  await done(page, "api-docs-desktop", { ownPage: false });
});
