// Results and indexing jobs as elements, built through h() so the same code renders into a page or a test shim.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  /**
   * The result's highlighted code, numbered, with what it matched by (the identifiers, or parts of them,
   * that are tokens from its name or code) in <mark> inside their token's span, which keeps its class.
   */
  function codeBlock(h, result) {
    const marks = CodeSearch.markedTokens(result);
    const piecesOf = (text) => CodeSearch.markText(text, marks).map(([piece, marked]) => (marked ? h('mark', { text: piece }) : piece));
    return h('pre', { class: 'hl' }, h('code', {}, CodeSearch.codeLines(result).map((line) =>
      h('span', { class: 'line' }, [
        h('span', { class: 'ln', text: line.number }),
        line.tokens.map(([className, text]) => (className ? h('span', { class: className }, piecesOf(text)) : piecesOf(text))),
      ]))));
  }

  /**
   * "Matched by send (name) · mail · smtp", as on the site: the tokens that gave a result of a search by
   * words most of its similarity, most first, saying those that came from its name or doc; each one's share
   * of the match is its tooltip and, for screen readers, words after it. Nothing when the server names none
   * (search by code, similar code, older servers).
   */
  function matchedLine(h, result) {
    const matched = CodeSearch.matchedTokens(result);
    if (!matched.length) return null;
    const tokens = matched.map(({ token, share, source }) => {
      const known = CodeSearch.MATCH_SOURCES.includes(source);
      const from = source ? `from its ${source}` : '';
      const said = [share === null ? null : `${CodeSearch.sharePercent(share)} of the match`, from].filter(Boolean).join(', ');
      return h('span', { class: `token token-${known ? source : 'other'}`, title: said || null }, [
        token,
        source && source !== 'code' ? h('small', { class: 'source', text: ` (${source})` }) : null,
        share === null ? null : h('span', { class: 'visually-hidden', text: `, ${CodeSearch.sharePercent(share)} of the match` }),
      ]);
    });
    return h('p', { class: 'matched' }, ['Matched by ', tokens.flatMap((token, i) => (i ? [' · ', token] : [token]))]);
  }

  // The units the server indexes. A block is a few statements of a long function and carries that
  // function's name; a class is a class, struct, interface, trait or module (Go: a type with its methods).
  const KINDS = ['function', 'class', 'block'];
  const PLURAL = { function: 'functions', class: 'classes', block: 'blocks' };

  /** "1 class", "3 blocks"; without a kind, "10 results". */
  function countOf(n, kind = null) {
    if (!kind) return n === 1 ? '1 result' : `${n} results`;
    return `${n} ${n === 1 ? kind : PLURAL[kind] ?? `${kind}s`}`;
  }

  /** "120 functions, 14 classes, 30 blocks" from a repository's `kinds` (or its function count, from older servers). */
  function unitCounts(repository) {
    const kinds = repository.kinds ?? {};
    const shown = [...KINDS, ...Object.keys(kinds).filter((kind) => !KINDS.includes(kind))]
      .filter((kind) => Number(kinds[kind]) > 0);
    if (!shown.length) return countOf(Number(repository.functions) || 0, 'function');
    return shown.map((kind) => countOf(Number(kinds[kind]), kind)).join(', ');
  }

  function lines(result) {
    return result.start_line === result.end_line ? `line ${result.start_line}` : `lines ${result.start_line}–${result.end_line}`;
  }

  /** What a result is, in words: "fingerprint", "class Stopwatch", "lines 40–52 of parse_args". */
  function unitName(result) {
    if (result.kind === 'block') return `${lines(result)} of ${result.func_name}`;
    if (result.kind && result.kind !== 'function') return `${result.kind} ${result.func_name}`;
    return result.func_name;
  }

  /**
   * The result's kind as a badge, as on the site. A block's badge says, as a tooltip and to screen readers,
   * which lines of which function it is: its name alone would read as the whole function.
   */
  function kindBadge(h, result) {
    const kind = String(result.kind || 'function');
    const known = KINDS.includes(kind);
    const title = {
      function: 'a function',
      class: 'a class, struct, interface, trait or module: its outline',
      block: `${lines(result)} of ${result.func_name}`,
    }[kind] ?? `a ${kind}`;
    return [
      h('span', { class: `kind kind-${known ? kind : 'other'}`, title, text: kind }),
      kind === 'block' ? h('span', { class: 'visually-hidden', text: `: ${title}` }) : null,
    ];
  }

  /**
   * The repository a result is in, for results from every repository: its name, linked to the repository at
   * the indexed commit (from the result's link to its lines, ".../owner/name/blob/COMMIT/path#L1-L9").
   */
  function repositoryLine(h, result, href) {
    const name = String(result.repository ?? '');
    if (!name) return null;
    const at = href?.match(/^([^#?]*?)\/blob\/([^/#?]+)\//);
    const home = at ? CodeSearch.safeHref(`${at[1]}/tree/${at[2]}`) : null;
    return home
      ? h('a', { class: 'repository', href: home, title: `Open ${name} on GitHub`, text: name })
      : h('span', { class: 'repository', text: name });
  }

  /**
   * One result as on the site: match rating, qualified name, kind, path and lines (linked), summary, code.
   * showRepository: name the result's repository too (results from every repository).
   */
  function resultItem(h, result, { onSimilar, showRepository = false } = {}) {
    const where = `${result.path}:${result.start_line}–${result.end_line}`;
    const href = CodeSearch.safeHref(result.url);
    return h('li', { class: 'result', 'data-kind': KINDS.includes(result.kind) ? result.kind : null }, [
      h('div', { class: 'result-head' }, [
        h('span', { class: 'rating', title: `match score ${result.score}`, text: `${result.match_percent}%` }),
        h('span', { class: 'func', text: result.func_name }),
        kindBadge(h, result),
      ]),
      showRepository ? repositoryLine(h, result, href) : null,
      href
        ? h('a', { class: 'location', href, title: 'Open these lines on GitHub', text: where })
        : h('span', { class: 'location', text: where }),
      result.summary ? h('p', { class: 'summary', text: result.summary }) : null,
      matchedLine(h, result),
      codeBlock(h, result),
      onSimilar
        ? h('div', { class: 'result-foot' },
          h('button', { type: 'button', class: 'link similar', onclick: () => onSimilar(result) }, [
            'Similar code', h('span', { class: 'visually-hidden', text: ` to ${unitName(result)}` }),
          ]))
        : null,
    ]);
  }

  /**
   * What a search by query found, for the results' heading: "3 results for “send mail”", or with `path:`
   * filters in the query (read here only to say so; the server filters), "2 classes in sample/report.py or
   * *.md for “write a report”", each pattern as code. everywhere: the search was across every repository,
   * "6 results across all repositories for “html banner”".
   */
  function queryHeading(h, { count, kind = null, query, everywhere = false }) {
    const { words, paths } = CodeSearch.splitPathFilters(query);
    // The server refuses a query of path: filters alone, so words are there; if not, say the query as typed.
    const said = `${everywhere ? 'across all repositories ' : ''}for “${words || String(query ?? '').trim()}”`;
    if (!paths.length) return [`${countOf(count, kind)} ${said}`];
    return [
      `${countOf(count, kind)} in `,
      CodeSearch.interleave(paths.map((pattern) => h('code', { class: 'path-filter', text: pattern }))),
      ` ${said}`,
    ].flat();
  }

  /**
   * "Showing results for send mail", as on the site, when the server searched a query with its mistyped words
   * corrected (the answer's `corrected`); nothing when it searched the words as typed, or names no correction
   * (older servers).
   */
  function correctedLine(h, corrected) {
    if (typeof corrected !== 'string' || !corrected) return null;
    return h('p', { class: 'corrected' }, ['Showing results for ', h('strong', { text: corrected })]);
  }

  function resultList(h, results, handlers) {
    if (!results.length) return h('p', { class: 'empty', text: 'No results.' });
    return h('ol', { class: 'results' }, results.map((result) => resultItem(h, result, handlers)));
  }

  const JOB_STATUS = {
    queued: 'Waiting for a worker',
    running: 'Indexing',
    succeeded: 'Indexed',
    failed: 'Indexing failed',
  };

  /** An indexing job's status, stage, progress bar and message. */
  function jobProgress(h, job) {
    const percent = Math.round(Math.min(Math.max(Number(job.progress) || 0, 0), 1) * 100);
    const status = JOB_STATUS[job.status] ?? String(job.status);
    return h('div', { class: `job job-${JOB_STATUS[job.status] ? job.status : 'unknown'}`, role: 'status' }, [
      h('p', { class: 'job-stage', text: job.stage ? `${status}: ${job.stage}` : status }),
      // A queued job has no progress yet: an indeterminate bar says "waiting" better than an empty one.
      h('progress', { max: 100, value: job.status === 'queued' ? null : percent, 'aria-label': 'Indexing progress' }),
      job.message ? h('p', { class: 'job-message', text: job.message }) : null,
    ]);
  }

  function roughly(seconds) {
    if (seconds < 90) return `${seconds} seconds`;
    if (seconds < 90 * 60) return `${Math.round(seconds / 60)} minutes`;
    return `${Math.round(seconds / 3600)} hours`;
  }

  /**
   * Why the server would not queue an indexing request, said so that the user knows what to do next:
   * 401 and 403 are about access, which only the server's staff can give (as an API token for the options).
   */
  function indexingRefusal(h, error, { openSettings }) {
    const settings = h('button', { type: 'button', class: 'link open-settings', text: 'Open the extension’s options', onclick: openSettings });
    const say = (text, action = null) => h('div', { class: 'error', role: 'alert' }, [h('p', { text }), action]);
    switch (error.status) {
      case 401:
        return say('Requesting indexing needs an access token from this server’s staff; paste it in the extension’s options.', settings);
      case 403:
        return say('The access token in the extension’s options may not request indexing on this server; ask its staff for one that may.', settings);
      case 429:
        return say(`This server has had too many requests from you; try again later${error.retryAfter ? ` (in about ${roughly(error.retryAfter)})` : ''}.`);
      default:
        return say(error.message);
    }
  }

  CodeSearch.KINDS = KINDS;
  CodeSearch.PLURAL = PLURAL;
  CodeSearch.countOf = countOf;
  CodeSearch.unitCounts = unitCounts;
  CodeSearch.unitName = unitName;
  CodeSearch.resultItem = resultItem;
  CodeSearch.matchedLine = matchedLine;
  CodeSearch.indexingRefusal = indexingRefusal;
  CodeSearch.resultList = resultList;
  CodeSearch.queryHeading = queryHeading;
  CodeSearch.correctedLine = correctedLine;
  CodeSearch.jobProgress = jobProgress;
})();
