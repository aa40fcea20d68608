// The extension builds DOM from data with textContent only: no script may parse strings as markup.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./load');

const FORBIDDEN = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write(ln)?|createContextualFragment|DOMParser|eval)\b|new Function\b/;

function scripts(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['test', 'dist'].includes(entry.name) ? [] : scripts(full);
    return entry.name.endsWith('.js') ? [full] : [];
  });
}

test('no extension script uses an HTML-parsing sink', () => {
  const files = scripts(ROOT);
  assert.ok(files.length > 10);
  for (const file of files) {
    const source = fs.readFileSync(file, 'utf8');
    assert.doesNotMatch(source, FORBIDDEN, path.relative(ROOT, file));
  }
});
