// The server address the user types in the options, checked and normalised, and the permission it needs.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  CodeSearch.DEFAULT_SERVER_URL = 'http://127.0.0.1:8000';

  /** "http(s)://host[:port][/prefix]" without a trailing slash; throws an Error whose message is for the user. */
  function normalizeServerUrl(input) {
    let url;
    try {
      url = new URL(String(input).trim());
    } catch {
      throw new Error('Type a full address, such as http://127.0.0.1:8000');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The address must start with http:// or https://');
    if (url.username || url.password) throw new Error('Leave the user name and password out of the address');
    if (url.search || url.hash) throw new Error('Leave ?query and #fragment out of the address');
    // A path is kept: the server may live under a prefix behind a reverse proxy.
    return url.origin + url.pathname.replace(/\/+$/, '');
  }

  /** The match pattern for host permissions; match patterns have no port, so it covers every port of the host. */
  function hostPermissionPattern(serverUrl) {
    const { protocol, hostname } = new URL(serverUrl);
    return `${protocol}//${hostname}/*`;
  }

  CodeSearch.normalizeServerUrl = normalizeServerUrl;
  CodeSearch.hostPermissionPattern = hostPermissionPattern;
})();
