// Which github.com addresses are repository pages, whose repository, and which file they show.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  // First path segments that are GitHub's own pages rather than users or organisations.
  const RESERVED = new Set([
    'about', 'account', 'apps', 'blog', 'codespaces', 'collections', 'contact', 'copilot', 'customer-stories',
    'dashboard', 'enterprise', 'events', 'explore', 'features', 'gist', 'home', 'issues', 'join', 'login', 'logout',
    'marketplace', 'new', 'notifications', 'organizations', 'orgs', 'pricing', 'pulls', 'readme', 'resources',
    'search', 'security', 'sessions', 'settings', 'signup', 'site', 'solutions', 'sponsors', 'stars', 'team',
    'topics', 'trending', 'users', 'watching',
  ]);
  const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
  const NAME = /^[A-Za-z0-9._-]{1,100}$/;
  // Views whose path ends with a file: /owner/name/blob/<ref>/<path>.
  const FILE_VIEWS = new Set(['blob', 'blame', 'raw']);

  function segments(pathname) {
    try {
      return pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return [];
    }
  }

  /**
   * {owner, name, fullName, view, fileName} for a repository page, or null for any other address.
   * fileName is only the last segment: a ref may contain slashes, so the file's full path is ambiguous.
   */
  function parseRepositoryPage(href) {
    let url;
    try {
      url = new URL(href);
    } catch {
      return null;
    }
    if (url.protocol !== 'https:' || url.hostname !== 'github.com') return null;
    const [owner, rawName, view = '', ...rest] = segments(url.pathname);
    if (!owner || !rawName || RESERVED.has(owner.toLowerCase()) || !OWNER.test(owner)) return null;
    const name = rawName.replace(/\.git$/, '');
    if (!NAME.test(name) || name === '.' || name === '..') return null;
    const fileName = FILE_VIEWS.has(view) && rest.length > 1 ? rest[rest.length - 1] : null;
    return { owner, name, fullName: `${owner}/${name}`, view, fileName };
  }

  CodeSearch.parseRepositoryPage = parseRepositoryPage;
})();
