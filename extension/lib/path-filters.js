// `path:` filters in a query, read only to say what a search was narrowed to: the query goes to the server as
// typed, and the server does the filtering (codesearch/search/engine.py's split_path_filters reads them the same
// way: `path:` at the start of a word, up to the next space; lower case, as GitHub's).
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  const PATH_FILTER = /(?<!\S)path:(\S+)/g;

  /** "send  path:sample/mailer.py mail path:*.py" -> { words: 'send mail', paths: ['sample/mailer.py', '*.py'] }. */
  function splitPathFilters(query) {
    const text = String(query ?? '');
    const paths = [...text.matchAll(PATH_FILTER)].map(([, pattern]) => pattern);
    const words = text.replace(PATH_FILTER, ' ').split(/\s+/).filter(Boolean).join(' ');
    return { words, paths };
  }

  /** ['a'] -> ['a']; ['a', 'b'] -> ['a', ' or ', 'b']; ['a', 'b', 'c'] -> ['a', ', ', 'b', ' or ', 'c']. */
  function interleave(items, last = ' or ') {
    return items.flatMap((item, i) => {
      if (i === 0) return [item];
      return [i === items.length - 1 ? last : ', ', item];
    });
  }

  CodeSearch.splitPathFilters = splitPathFilters;
  CodeSearch.interleave = interleave;
})();
