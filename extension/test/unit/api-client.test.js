const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const { createClient } = load('lib/api-client.js');

/** A fetch that records its calls and answers with the given status and body. */
function fakeFetch(status, body) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, method: init.method, body: init.body && JSON.parse(init.body), headers: init.headers });
    return { ok: status < 400, status, json: async () => (body === undefined ? Promise.reject(new SyntaxError()) : body) };
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
