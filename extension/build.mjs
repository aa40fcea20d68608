// `make extension`: one build per browser from the one manifest.json, which itself loads unpacked in both
// (Chromium 121+ takes background.service_worker, Firefox 121+ takes background.scripts). Each build
// keeps only its own browser's keys, so neither store sees keys it doesn't know; then web-ext zips it.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = path.dirname(fileURLToPath(import.meta.url));
// What the browsers load; build.mjs, README.md, test/ and dist/ stay out of the packages.
export const RUNTIME_FILES = ['manifest.json', 'background', 'content', 'icons', 'lib', 'options'];
export const BROWSERS = ['chromium', 'firefox'];

export function manifestFor(browser, manifest) {
  const { browser_specific_settings: gecko, background, ...common } = manifest;
  if (browser === 'chromium') return { ...common, background: { service_worker: background.service_worker } };
  if (browser === 'firefox') return { ...common, background: { scripts: background.scripts }, browser_specific_settings: gecko };
  throw new Error(`unknown browser ${browser}`);
}

/** Writes the unpacked extension for one browser into outDir (emptied first); returns its manifest. */
export async function buildDirectory(browser, outDir) {
  const manifest = JSON.parse(await readFile(path.join(SOURCE, 'manifest.json'), 'utf8'));
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  for (const entry of RUNTIME_FILES.filter((name) => name !== 'manifest.json')) {
    await cp(path.join(SOURCE, entry), path.join(outDir, entry), { recursive: true });
  }
  const built = manifestFor(browser, manifest);
  await writeFile(path.join(outDir, 'manifest.json'), `${JSON.stringify(built, null, 2)}\n`);
  return built;
}

async function main() {
  const { default: webExt } = await import('web-ext');
  const dist = path.join(SOURCE, 'dist');
  for (const browser of BROWSERS) {
    const dir = path.join(dist, browser);
    const { version } = await buildDirectory(browser, dir);
    const filename = `codesearch-${browser}-${version}.zip`;
    await webExt.cmd.build(
      { sourceDir: dir, artifactsDir: dist, filename, overwriteDest: true },
      { shouldExitProgram: false },
    );
    console.log(`${path.relative(process.cwd(), dir)}/ and ${path.relative(process.cwd(), path.join(dist, filename))}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
