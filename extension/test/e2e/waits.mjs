// How long the end-to-end tests wait for a condition before failing. Every wait is on a condition (an
// element, a text, a menu state), never a sleep, so these limits don't slow a passing run: they only
// bound how long a broken one takes to say so. A busy machine gets proportionally more, from the load
// average when the suite starts (a loaded 2-core machine is easily 3x slower), or from
// CODESEARCH_E2E_SLOWDOWN when the caller knows better.
import os from 'node:os';

const load = os.loadavg()[0] / os.availableParallelism();
export const SLOWDOWN = Math.min(Math.max(Number(process.env.CODESEARCH_E2E_SLOWDOWN) || 1, load, 1), 10);

const seconds = (s) => Math.round(s * 1000 * SLOWDOWN);

export const WAIT_MS = {
  step: seconds(45), // one condition: an element, a server answer shown, a menu opening
  launch: seconds(120), // starting a browser with a fresh profile and installing the extension
  suite: seconds(900), // everything, as node:test's own limit
};

/** Waits until `check()` returns something truthy, polling; returns it. */
export async function until(check, what, timeout = WAIT_MS.step) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
