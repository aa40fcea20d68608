const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const { parseRepositoryPage } = load('lib/github-url.js');

test('repository home, tree and pull-request pages name their repository', () => {
  assert.deepEqual(parseRepositoryPage('https://github.com/django/django'),
    { owner: 'django', name: 'django', fullName: 'django/django', view: '', fileName: null });
  assert.equal(parseRepositoryPage('https://github.com/psf/requests/tree/main/src').fullName, 'psf/requests');
  const pull = parseRepositoryPage('https://github.com/golang/go/pull/123/files#diff-abc');
  assert.equal(pull.view, 'pull');
  assert.equal(pull.fileName, null);
});

test('a blob page gives the file name, even when the branch has slashes in it', () => {
  const page = parseRepositoryPage('https://github.com/example/sample/blob/feature/x/sample/mailer.py#L5-L9');
  assert.equal(page.view, 'blob');
  assert.equal(page.fileName, 'mailer.py');
  assert.equal(parseRepositoryPage('https://github.com/a/b/blame/0123abc/lib/x.rb').fileName, 'x.rb');
  assert.equal(parseRepositoryPage('https://github.com/a/b/blob/main').fileName, null);
});

test('names are decoded, and a .git suffix is dropped', () => {
  assert.equal(parseRepositoryPage('https://github.com/a-b/c.d_e.git').fullName, 'a-b/c.d_e');
  assert.equal(parseRepositoryPage('https://github.com/a/b/blob/main/My%20File.py').fileName, 'My File.py');
});

test("GitHub's own pages, other hosts and malformed addresses are not repositories", () => {
  for (const href of [
    'https://github.com/', 'https://github.com/django', 'https://github.com/settings/profile',
    'https://github.com/orgs/django/repositories', 'https://github.com/marketplace/actions/x',
    'https://github.com/topics/python', 'https://gist.github.com/a/b', 'http://github.com/a/b',
    'https://example.com/a/b', 'https://github.com/-bad/name', 'https://github.com/a/b%ZZ', 'not a url',
    'https://github.com/a/..',
  ]) {
    assert.equal(parseRepositoryPage(href), null, href);
  }
});
