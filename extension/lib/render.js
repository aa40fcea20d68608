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

  CodeSearch.resultItem = resultItem;
  CodeSearch.resultList = resultList;
  CodeSearch.jobProgress = jobProgress;
})();
