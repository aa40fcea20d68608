const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const { createClient } = load('lib/api-client.js');

/** A fetch that records its calls and answers with the given status, body and headers. */
function fakeFetch(status, body, headers = {}) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, method: init.method, body: init.body && JSON.parse(init.body), headers: init.headers });
    return {
      ok: status < 400, status, headers: new Headers(headers),
      json: async () => (body === undefined ? Promise.reject(new SyntaxError()) : body),
    };
  };
  return { fetch, calls };
}

test('searches build the documented URLs, escaping names and dropping empty parameters', async () => {
  const { fetch, calls } = fakeFetch(200, { results: [] });
  const client = createClient('http://localhost:8000/', fetch);
  await client.search({ owner: 'a b', name: 'c/d', q: 'send mail', language: null, limit: 5 });
  await client.repository({ owner: 'django', name: 'django' });
  await client.similar({ id: 42, limit: 3 });
  await client.job({ id: 7 });
  await client.health();
  assert.deepEqual(calls.map((call) => `${call.method} ${call.url}`), [
    'GET http://localhost:8000/api/v1/repositories/a%20b/c%2Fd/search?q=send+mail&limit=5',
    'GET http://localhost:8000/api/v1/repositories/django/django',
    'GET http://localhost:8000/api/v1/snippets/42/similar?limit=3',
    'GET http://localhost:8000/api/v1/jobs/7',
    'GET http://localhost:8000/api/v1/health',
  ]);
});

test('the search across every indexed repository goes to /search, whatever repository the page is', async () => {
  const { fetch, calls } = fakeFetch(200, { query: 'send mail', results: [] });
  const client = createClient('http://localhost:8000', fetch, { token: 's3cret' });
  await client.searchAll({ q: 'send mail path:*.py', language: 'python', kind: 'class', limit: 10 });
  await client.searchAll({ owner: 'o', name: 'n', q: 'send mail', language: null, kind: '' });
  assert.deepEqual(calls.map((call) => `${call.method} ${call.url}`), [
    'GET http://localhost:8000/api/v1/search?q=send+mail+path%3A*.py&language=python&kind=class&limit=10',
    'GET http://localhost:8000/api/v1/search?q=send+mail',
  ]);
  // Searching is open to everyone: the token stays home.
  assert.ok(calls.every((call) => call.headers.Authorization === undefined));
});

test('search by code and indexing requests POST JSON', async () => {
  const { fetch, calls } = fakeFetch(202, { id: 1, status: 'queued' });
  const client = createClient('https://cs.example.org/prefix', fetch);
  await client.searchByCode({ owner: 'o', name: 'n', code: 'def f(): pass', language: '', limit: 10 });
  await client.requestIndex({ owner: 'o', name: 'n' });
  assert.equal(calls[0].url, 'https://cs.example.org/prefix/api/v1/repositories/o/n/search-by-code');
  assert.deepEqual(calls[0].body, { code: 'def f(): pass', language: null, limit: 10 });
  assert.equal(calls[0].headers['Content-Type'], 'application/json');
  assert.equal(`${calls[1].method} ${calls[1].url}`, 'POST https://cs.example.org/prefix/api/v1/repositories/o/n/index');
});

test('a kind narrows searches, search by code and similar code; an empty kind is not sent', async () => {
  const { fetch, calls } = fakeFetch(200, { results: [] });
  const client = createClient('http://localhost:8000', fetch);
  const repo = { owner: 'o', name: 'n' };
  await client.search({ ...repo, q: 'lap times', kind: 'class', limit: 10 });
  await client.search({ ...repo, q: 'lap times', kind: '' });
  await client.search({ ...repo, q: 'lap times', kind: null, language: 'python' });
  await client.similar({ id: 3, kind: 'block', limit: 5 });
  await client.searchByCode({ ...repo, code: 'class A: pass', language: 'python', kind: 'class', limit: 10 });
  await client.searchByCode({ ...repo, code: 'x = 1', kind: '' });
  assert.deepEqual(calls.map((call) => call.url.replace('http://localhost:8000/api/v1', '')), [
    '/repositories/o/n/search?q=lap+times&kind=class&limit=10',
    '/repositories/o/n/search?q=lap+times',
    '/repositories/o/n/search?q=lap+times&language=python',
    '/snippets/3/similar?kind=block&limit=5',
    '/repositories/o/n/search-by-code',
    '/repositories/o/n/search-by-code',
  ]);
  assert.deepEqual(calls[4].body, { code: 'class A: pass', language: 'python', kind: 'class', limit: 10 });
  assert.deepEqual(calls[5].body, { code: 'x = 1', language: null });
});

test("the server's {error} message and status come back as an ApiError", async () => {
  const client = createClient('http://h', fakeFetch(404, { error: 'repository x/y is not known here' }).fetch);
  await assert.rejects(client.repository({ owner: 'x', name: 'y' }),
    { name: 'Error', message: 'repository x/y is not known here', status: 404, unreachable: false });
  const broken = createClient('http://h', fakeFetch(502, undefined).fetch);
  await assert.rejects(broken.health(), { message: 'The server answered 502.', status: 502 });
  const notJson = createClient('http://h', fakeFetch(200, undefined).fetch);
  await assert.rejects(notJson.health(), { message: 'The server did not answer with JSON.' });
});

test('a server that cannot be reached is reported as unreachable, naming its address', async () => {
  const client = createClient('http://127.0.0.1:9', async () => { throw new TypeError('Failed to fetch'); });
  await assert.rejects(client.health(), { message: "Can't reach the codesearch server at http://127.0.0.1:9.", unreachable: true });
});

test('the API token goes only with indexing requests and their job, never with searches', async () => {
  const { fetch, calls } = fakeFetch(200, { id: 1, status: 'queued', results: [] });
  const client = createClient('http://localhost:8000', fetch, { token: 's3cret' });
  const repo = { owner: 'o', name: 'n' };
  await client.requestIndex(repo);
  await client.job({ id: 1 });
  await client.health();
  await client.repository(repo);
  await client.search({ ...repo, q: 'x' });
  await client.searchByCode({ ...repo, code: 'x' });
  await client.similar({ id: 1 });
  const sent = calls.map((call) => [call.url.replace('http://localhost:8000/api/v1', ''), call.headers.Authorization ?? null]);
  assert.deepEqual(sent.filter(([, auth]) => auth), [['/repositories/o/n/index', 'Bearer s3cret'], ['/jobs/1', 'Bearer s3cret']]);
  assert.equal(sent.length, 7);
});

test('without a token no Authorization header is sent, and 401, 403 and 429 keep their status', async () => {
  const anonymous = fakeFetch(401, { error: 'Requesting indexing needs an access token' });
  await assert.rejects(createClient('http://h', anonymous.fetch).requestIndex({ owner: 'o', name: 'n' }),
    { message: 'Requesting indexing needs an access token', status: 401, retryAfter: null });
  assert.equal(anonymous.calls[0].headers.Authorization, undefined);
  await assert.rejects(createClient('http://h', fakeFetch(403, { error: 'no' }).fetch, { token: 't' }).requestIndex({ owner: 'o', name: 'n' }),
    { status: 403 });
  const limited = createClient('http://h', fakeFetch(429, { error: 'too many' }, { 'Retry-After': '3600' }).fetch, { token: 't' });
  await assert.rejects(limited.requestIndex({ owner: 'o', name: 'n' }), { status: 429, retryAfter: 3600 });
  const dated = new Date(Date.now() + 120_000).toUTCString();
  const limitedUntil = createClient('http://h', fakeFetch(429, { error: 'too many' }, { 'Retry-After': dated }).fetch);
  await assert.rejects(limitedUntil.requestIndex({ owner: 'o', name: 'n' }), (error) => error.retryAfter > 100 && error.retryAfter <= 120);
});
