// path: filters in a query, read as the server reads them (codesearch/search/engine.py's split_path_filters),
// only to say what a search was narrowed to.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const CodeSearch = load('lib/path-filters.js');

test('path: filters are taken out of the words, in order, and the words keep single spaces', () => {
  // The server's own test's example.
  assert.deepEqual(CodeSearch.splitPathFilters('send  path:sample/mailer.py mail path:*.py'),
    { words: 'send mail', paths: ['sample/mailer.py', '*.py'] });
  assert.deepEqual(CodeSearch.splitPathFilters('path:/sample/web.py fetch a page'), { words: 'fetch a page', paths: ['/sample/web.py'] });
  assert.deepEqual(CodeSearch.splitPathFilters('  write a report\tpath:report.py\n'), { words: 'write a report', paths: ['report.py'] });
});

test('a query without filters is its words; one of filters alone has none', () => {
  assert.deepEqual(CodeSearch.splitPathFilters('send mail'), { words: 'send mail', paths: [] });
  assert.deepEqual(CodeSearch.splitPathFilters('path:a path:b'), { words: '', paths: ['a', 'b'] });
  assert.deepEqual(CodeSearch.splitPathFilters(''), { words: '', paths: [] });
  assert.deepEqual(CodeSearch.splitPathFilters(undefined), { words: '', paths: [] });
});

test('only a word that starts with path: (lower case) and has a pattern is a filter', () => {
  for (const query of ['read xpath:foo', 'read path: foo', 'read Path:foo', 'read PATH:foo', 'read "path:foo"']) {
    assert.deepEqual(CodeSearch.splitPathFilters(query).paths, [], query);
  }
  assert.deepEqual(CodeSearch.splitPathFilters('read path:a:b'), { words: 'read', paths: ['a:b'] });
  assert.deepEqual(CodeSearch.splitPathFilters('read path:path:x'), { words: 'read', paths: ['path:x'] });
  // The same filter twice is the server's business; shown as typed.
  assert.deepEqual(CodeSearch.splitPathFilters('a path:x path:x').paths, ['x', 'x']);
});

test('the same query splits the same way each time (the pattern is global, its state must not carry over)', () => {
  const query = 'send mail path:sample/mailer.py';
  assert.deepEqual(CodeSearch.splitPathFilters(query), CodeSearch.splitPathFilters(query));
});

test('interleave lists items with commas and a last "or"', () => {
  assert.deepEqual(CodeSearch.interleave([]), []);
  assert.deepEqual(CodeSearch.interleave(['a']), ['a']);
  assert.deepEqual(CodeSearch.interleave(['a', 'b']), ['a', ' or ', 'b']);
  assert.deepEqual(CodeSearch.interleave(['a', 'b', 'c']), ['a', ', ', 'b', ' or ', 'c']);
  assert.deepEqual(CodeSearch.interleave(['a', 'b'], ' and '), ['a', ' and ', 'b']);
});
