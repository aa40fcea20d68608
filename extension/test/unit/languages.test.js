const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const { languageOfFile, LANGUAGES } = load('lib/languages.js');

test('file extensions map to the six indexed languages', () => {
  const cases = {
    'mailer.py': 'python', 'stubs.pyi': 'python', 'main.go': 'go', 'Outer.java': 'java', 'app.js': 'javascript',
    'x.mjs': 'javascript', 'View.jsx': 'javascript', 'shapes.rb': 'ruby', 'Rakefile': 'ruby', 'index.php': 'php',
    'sample/deep/path/Timeutil.PY': 'python',
  };
  for (const [file, language] of Object.entries(cases)) assert.equal(languageOfFile(file), language, file);
  assert.deepEqual([...new Set(Object.values(cases))].sort(), LANGUAGES);
});

test('files the server has no model for, and no file at all, give null', () => {
  for (const file of ['app.ts', 'README.md', 'Makefile', '.py', 'noextension', '', null, undefined, 'toString', 'x.constructor']) {
    assert.equal(languageOfFile(file), null, String(file));
  }
});
