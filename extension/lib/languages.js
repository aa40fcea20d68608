// The languages the server indexes, and which one a file is written in.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  const BY_EXTENSION = {
    py: 'python', pyi: 'python', pyw: 'python',
    go: 'go',
    java: 'java',
    js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'javascript',
    rb: 'ruby', rake: 'ruby', gemspec: 'ruby',
    php: 'php', phtml: 'php',
  };
  const BY_NAME = { Rakefile: 'ruby', Gemfile: 'ruby' };

  /** The language of a file name or path, or null when the server has no model for it. */
  function languageOfFile(path) {
    const fileName = String(path ?? '').split('/').pop();
    if (Object.hasOwn(BY_NAME, fileName)) return BY_NAME[fileName];
    const dot = fileName.lastIndexOf('.');
    if (dot <= 0) return null;
    const extension = fileName.slice(dot + 1).toLowerCase();
    return Object.hasOwn(BY_EXTENSION, extension) ? BY_EXTENSION[extension] : null;
  }

  CodeSearch.LANGUAGES = ['go', 'java', 'javascript', 'php', 'python', 'ruby'];
  CodeSearch.languageOfFile = languageOfFile;
})();
