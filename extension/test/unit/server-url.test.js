const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const { normalizeServerUrl, hostPermissionPattern, DEFAULT_SERVER_URL } = load('lib/server-url.js');

test('addresses are normalised without trailing slashes, keeping a path prefix', () => {
  assert.equal(normalizeServerUrl(' http://127.0.0.1:8000/ '), 'http://127.0.0.1:8000');
  assert.equal(normalizeServerUrl('https://Search.Example.org/codesearch//'), 'https://search.example.org/codesearch');
  assert.equal(normalizeServerUrl(DEFAULT_SERVER_URL), 'http://127.0.0.1:8000');
});

test('anything but a plain http(s) address is refused with a message for the user', () => {
  for (const input of ['', '127.0.0.1:8000', 'ftp://host', 'javascript:alert(1)', 'http://u:p@host', 'http://h/?q=1', 'http://h/#x']) {
    assert.throws(() => normalizeServerUrl(input), /address/, input);
  }
});

test('the host permission covers every port of the host', () => {
  assert.equal(hostPermissionPattern('http://localhost:41234'), 'http://localhost/*');
  assert.equal(hostPermissionPattern('https://search.example.org/codesearch'), 'https://search.example.org/*');
});
