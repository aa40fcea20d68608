// The codesearch JSON API (/api/v1/), as the background script calls it. fetch is passed in so tests can fake it.
// Searching is open to everyone; only asking the server to index (and following that job) carries the API token.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  // The first search after a server start loads the index; allow for that, not for a hung server.
  const TIMEOUT_MS = 60_000;

  class ApiError extends Error {
    constructor(message, { status = null, unreachable = false, retryAfter = null } = {}) {
      super(message);
      this.status = status;
      this.unreachable = unreachable;
      this.retryAfter = retryAfter; // seconds, from a 429's Retry-After
    }
  }

  /** Retry-After as seconds; the header may also be an HTTP date. */
  function retryAfterSeconds(value) {
    if (!value) return null;
    if (/^\d+$/.test(value.trim())) return Number(value);
    const date = Date.parse(value);
    return Number.isNaN(date) ? null : Math.max(0, Math.round((date - Date.now()) / 1000));
  }

  /** token: the API token for this server, or null; sent only by the operations that need it. */
  function createClient(serverUrl, fetchImpl, { token = null } = {}) {
    const base = `${serverUrl.replace(/\/+$/, '')}/api/v1`;
    const repository = ({ owner, name }) => `/repositories/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;

    async function request(method, path, { query = {}, body, authorized = false } = {}) {
      const url = new URL(base + path);
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
      }
      const init = { method, headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) };
      if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      if (authorized && token) init.headers.Authorization = `Bearer ${token}`;
      let response;
      try {
        response = await fetchImpl(url.href, init);
      } catch {
        throw new ApiError(`Can't reach the codesearch server at ${serverUrl}.`, { unreachable: true });
      }
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        throw new ApiError(data?.error || `The server answered ${response.status}.`, {
          status: response.status, retryAfter: retryAfterSeconds(response.headers.get('Retry-After')),
        });
      }
      if (data === null) throw new ApiError('The server did not answer with JSON.', { status: response.status });
      return data;
    }

    // One argument object per operation, so the background can pass a message's args through unchanged.
    return {
      health: () => request('GET', '/health'),
      repository: (args) => request('GET', repository(args)),
      requestIndex: (args) => request('POST', `${repository(args)}/index`, { body: {}, authorized: true }),
      job: ({ id }) => request('GET', `/jobs/${encodeURIComponent(id)}`, { authorized: true }),
      // kind: "function", "class" or "block" narrows the results to that kind; empty or null means every kind.
      search: ({ q, language, kind, limit, ...args }) =>
        request('GET', `${repository(args)}/search`, { query: { q, language, kind, limit } }),
      // Every indexed repository at once: each result names its repository. A page's owner and name, if passed, stay here.
      searchAll: ({ q, language, kind, limit }) => request('GET', '/search', { query: { q, language, kind, limit } }),
      searchByCode: ({ code, language, kind, limit, ...args }) =>
        request('POST', `${repository(args)}/search-by-code`, {
          body: { code, language: language || null, ...(kind ? { kind } : {}), limit },
        }),
      similar: ({ id, kind, limit }) =>
        request('GET', `/snippets/${encodeURIComponent(id)}/similar`, { query: { kind, limit } }),
    };
  }

  CodeSearch.ApiError = ApiError;
  CodeSearch.createClient = createClient;
})();
