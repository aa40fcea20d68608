// The manifests and the per-browser builds: everything they name exists, and each keeps only its own keys.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDirectory, manifestFor, RUNTIME_FILES } from '../../build.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = JSON.parse(await readFile(path.join(ROOT, 'manifest.json'), 'utf8'));

function referencedFiles(m) {
  return [
    ...Object.values(m.icons),
    ...(m.background.scripts ?? []),
    ...(m.background.service_worker ? [m.background.service_worker] : []),
    ...m.content_scripts.flatMap((script) => script.js),
    m.options_ui.page,
  ];
}

test('every file the manifest names exists', () => {
  for (const file of referencedFiles(manifest)) assert.ok(existsSync(path.join(ROOT, file)), file);
});

test("Chromium's service worker imports the same scripts, in the same order, as Firefox's background", async () => {
  const worker = await readFile(path.join(ROOT, manifest.background.service_worker), 'utf8');
  const imported = [...worker.matchAll(/'([^']+\.js)'/g)].map(([, file]) =>
    path.posix.join(path.posix.dirname(manifest.background.service_worker), file));
  assert.deepEqual(imported, manifest.background.scripts);
});

test('the sidebar shortcut is Alt+Shift+S by default and the menu needs contextMenus', () => {
  assert.equal(manifest.commands['toggle-sidebar'].suggested_key.default, 'Alt+Shift+S');
  assert.ok(manifest.permissions.includes('contextMenus'));
  assert.deepEqual(manifest.content_scripts[0].matches, ['https://github.com/*']);
});

test('each browser build keeps its own background and settings only', async () => {
  const chromium = manifestFor('chromium', manifest);
  assert.deepEqual(chromium.background, { service_worker: 'background/service-worker.js' });
  assert.equal(chromium.browser_specific_settings, undefined);
  const firefox = manifestFor('firefox', manifest);
  assert.deepEqual(firefox.background, { scripts: manifest.background.scripts });
  assert.equal(firefox.browser_specific_settings.gecko.id, manifest.browser_specific_settings.gecko.id);
});

test('a build directory holds the runtime files and nothing of the tests', async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'codesearch-build-'));
  const built = await buildDirectory('firefox', out);
  assert.deepEqual((await readdir(out)).sort(), [...RUNTIME_FILES].sort());
  for (const file of referencedFiles(built)) assert.ok(existsSync(path.join(out, file)), file);
});
