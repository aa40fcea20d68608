// Results and indexing jobs as elements, built through h() so the same code renders into a page or a test shim.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  function codeBlock(h, result) {
    return h('pre', { class: 'hl' }, h('code', {}, CodeSearch.codeLines(result).map((line) =>
      h('span', { class: 'line' }, [
        h('span', { class: 'ln', text: line.number }),
        line.tokens.map(([className, text]) => (className ? h('span', { class: className, text }) : text)),
      ]))));
  }

  /** One result as on the site: match rating, qualified name, path and lines (linked), summary, code. */
  function resultItem(h, result, { onSimilar } = {}) {
    const where = `${result.path}:${result.start_line}–${result.end_line}`;
    const href = CodeSearch.safeHref(result.url);
    return h('li', { class: 'result' }, [
      h('div', { class: 'result-head' }, [
        h('span', { class: 'rating', title: `match rating (cosine similarity ${result.score})`, text: `${result.match_percent}%` }),
        h('span', { class: 'func', text: result.func_name }),
      ]),
      href
        ? h('a', { class: 'location', href, title: 'Open these lines on GitHub', text: where })
        : h('span', { class: 'location', text: where }),
      result.summary ? h('p', { class: 'summary', text: result.summary }) : null,
      codeBlock(h, result),
      onSimilar
        ? h('div', { class: 'result-foot' },
          h('button', { type: 'button', class: 'link similar', onclick: () => onSimilar(result), text: 'Similar functions' }))
        : null,
    ]);
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

  CodeSearch.resultItem = resultItem;
  CodeSearch.indexingRefusal = indexingRefusal;
  CodeSearch.resultList = resultList;
  CodeSearch.jobProgress = jobProgress;
})();
