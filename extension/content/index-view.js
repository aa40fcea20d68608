// The sidebar for a repository the server hasn't indexed: say so, offer to request indexing, follow the job.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;

  const POLL_MS = 1500;
  const ACTIVE = new Set(['queued', 'running']);

  class IndexView {
    constructor(h, { owner, name, job, onIndexed }) {
      this.h = h;
      this.repository = { owner, name };
      this.onIndexed = onIndexed;
      this.state = h('div', { class: 'index-state' });
      this.element = h('div', { class: 'index-view' }, [
        h('p', {}, [h('strong', { text: `${owner}/${name}` }), ' is not indexed on this codesearch server yet.']),
        this.state,
      ]);
      if (job && ACTIVE.has(job.status)) this.follow(job);
      else this.offer(job);
    }

    offer(lastJob) {
      const h = this.h;
      this.refusal = null;
      // Without the filter, replaceChildren() would show a null as the text "null".
      this.state.replaceChildren(...[
        lastJob?.status === 'failed' ? CodeSearch.jobProgress(h, lastJob) : null,
        h('p', { class: 'note', text: 'Indexing reads every function in the repository and trains a model for it; it can take a few minutes.' }),
        h('button', { type: 'button', class: 'primary', text: 'Request indexing', onclick: (event) => this.request(event.currentTarget) }),
      ].filter(Boolean));
    }

    async request(button) {
      button.disabled = true;
      try {
        this.follow(await CodeSearch.background.api('requestIndex', this.repository));
      } catch (error) {
        button.disabled = false;
        this.refusal?.remove();
        this.refusal = CodeSearch.indexingRefusal(this.h, error, { openSettings: () => CodeSearch.background.openSettings() });
        this.state.append(this.refusal);
      }
    }

    /** Shows the job and polls it until it ends, or until this view has left the page. */
    async follow(job) {
      const note = this.h('p', { class: 'note', text: 'This panel follows the job; you can close it and come back later.' });
      this.state.replaceChildren(CodeSearch.jobProgress(this.h, job), note);
      while (ACTIVE.has(job.status)) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (!this.element.isConnected) return;
        try {
          job = await CodeSearch.background.api('job', { id: job.id });
        } catch (error) {
          this.state.replaceChildren(this.h('p', { class: 'error', role: 'alert', text: error.message }));
          return;
        }
        this.state.replaceChildren(CodeSearch.jobProgress(this.h, job), note);
      }
      if (job.status === 'succeeded') this.onIndexed();
      else this.offer(job);
    }
  }

  CodeSearch.IndexView = IndexView;
})();
