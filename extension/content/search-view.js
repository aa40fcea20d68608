// The sidebar for an indexed repository: "Search by query" and "Search by code" tabs, each with its language and
// kind filters (functions, classes, blocks), results, similar code. The query may hold path: filters (a hint
// under it says so); the server reads them, and the results' heading names them.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;

  const LIMIT = 10;

  class SearchView {
    /** repository: the API's repository object; onSearched(search) lets the caller keep the last search. */
    constructor(h, { repository, defaultLanguage, onSearched }) {
      this.h = h;
      this.repository = repository;
      this.onSearched = onSearched;
      this.generation = 0;
      this.element = this.build(defaultLanguage);
    }

    build(defaultLanguage) {
      const h = this.h;
      const { languages, indexed_commit: commit } = this.repository;
      this.queryInput = h('input', {
        type: 'search', name: 'q', maxlength: 300, 'aria-label': 'What should the code do?',
        placeholder: 'What should the code do? e.g. send mail', 'aria-describedby': 'query-hint',
      });
      this.queryLanguage = languages.length > 1 ? this.languageSelect('all languages', null) : null;
      this.queryKind = this.kindSelect();
      this.codeInput = h('textarea', {
        name: 'code', spellcheck: 'false', 'aria-label': 'Code to find similar functions for',
        placeholder: 'Paste a function, or select code on the page and choose "Search by code" from the right-click menu.',
      });
      this.codeLanguage = this.languageSelect('detect', defaultLanguage);
      this.codeKind = this.kindSelect();
      this.tabs = {
        query: this.tab('query', 'Search by query'),
        code: this.tab('code', 'Search by code'),
      };
      this.panels = {
        query: h('form', { class: 'query-form', role: 'tabpanel', onsubmit: (event) => this.submit(event, 'query') }, [
          this.queryInput, this.queryLanguage, this.queryKind, h('button', { type: 'submit', class: 'primary', text: 'Search' }),
          // Read with the field (aria-describedby): path: filters go in the query, as on GitHub and on the site.
          h('p', { class: 'hint', id: 'query-hint' }, [
            'Narrow with ', h('code', { text: 'path:folder' }), ', ', h('code', { text: 'path:file.py' }),
            ' or ', h('code', { text: 'path:*.py' }),
          ]),
        ]),
        code: h('form', { class: 'code-form', role: 'tabpanel', hidden: true, onsubmit: (event) => this.submit(event, 'code') }, [
          this.codeInput,
          h('label', { class: 'field' }, ['Language', this.codeLanguage]),
          this.codeKind && h('label', { class: 'field' }, ['Kind', this.codeKind]),
          h('button', { type: 'submit', class: 'primary', text: 'Find similar functions' }),
        ]),
      };
      this.resultsHead = h('div', { class: 'results-head' });
      this.resultsBody = h('div', { class: 'results-body' });
      return h('div', { class: 'search-view' }, [
        h('p', { class: 'meta' }, [
          `${CodeSearch.unitCounts(this.repository)} · ${languages.join(', ')} · indexed at `, h('code', { text: commit }),
        ]),
        h('div', { class: 'tabs', role: 'tablist' }, Object.values(this.tabs)),
        Object.values(this.panels),
        h('div', { class: 'results-area', 'aria-live': 'polite' }, [this.resultsHead, this.resultsBody]),
      ]);
    }

    tab(name, label) {
      return this.h('button', {
        type: 'button', class: 'tab', role: 'tab', 'aria-selected': String(name === 'query'),
        text: label, onclick: () => this.selectTab(name),
      });
    }

    languageSelect(anyLabel, selected) {
      const h = this.h;
      return h('select', { name: 'language', 'aria-label': 'Language' }, [
        h('option', { value: '', text: anyLabel }),
        this.repository.languages.map((language) =>
          h('option', { value: language, selected: language === selected, text: language })),
      ]);
    }

    /**
     * Functions, classes or blocks only: offered when the repository has more than one of them (a server from
     * before classes and blocks has no `kinds`, and only functions).
     */
    kindSelect() {
      const h = this.h;
      const kinds = this.repository.kinds ?? {};
      const present = CodeSearch.KINDS.filter((kind) => Number(kinds[kind]) > 0);
      if (present.length < 2) return null;
      return h('select', { name: 'kind', 'aria-label': 'Kind of code' }, [
        h('option', { value: '', text: 'all kinds' }),
        // "classes (14)": the word first, so that typing its first letter chooses it.
        present.map((kind) => h('option', { value: kind, text: `${CodeSearch.PLURAL[kind]} (${Number(kinds[kind])})` })),
      ]);
    }

    /** Selects the kind if the select offers it (a remembered one may not be), else all kinds; returns it. */
    static chooseKind(select, kind) {
      if (!select) return '';
      select.value = [...select.options].some((option) => option.value === kind) ? kind : '';
      return select.value;
    }

    selectTab(name) {
      for (const [tabName, tab] of Object.entries(this.tabs)) {
        tab.setAttribute('aria-selected', String(tabName === name));
        this.panels[tabName].hidden = tabName !== name;
      }
    }

    focus() {
      const field = this.panels.code.hidden ? this.queryInput : this.codeInput;
      field.focus({ preventScroll: true });
    }

    submit(event, mode) {
      event.preventDefault();
      if (mode === 'query') this.searchByQuery(this.queryInput.value, this.queryLanguage?.value, this.queryKind?.value);
      else this.searchByCode(this.codeInput.value, this.codeLanguage.value, this.codeKind?.value);
    }

    /** kind: '' for every kind; a search remembered from before kinds has none. */
    searchByQuery(q, language = '', kind = '') {
      this.selectTab('query');
      this.queryInput.value = q;
      if (this.queryLanguage) this.queryLanguage.value = language ?? '';
      kind = SearchView.chooseKind(this.queryKind, kind);
      this.onSearched({ mode: 'query', q, language, kind });
      return this.run(
        { op: 'search', args: { q, language: language || null, kind: kind || null } },
        // The server echoes the query as typed; its path: filters, if any, are named in the heading.
        (data) => CodeSearch.queryHeading(this.h, { count: data.results.length, kind, query: data.query ?? q }),
      );
    }

    /** kind: '' for every kind; by default the kind the code form shows (the context menu passes none). */
    searchByCode(code, language = '', kind = this.codeKind?.value ?? '') {
      this.selectTab('code');
      this.codeInput.value = code;
      // A language the repository doesn't have can't match anything here, so let the server detect instead.
      this.codeLanguage.value = this.repository.languages.includes(language) ? language : '';
      kind = SearchView.chooseKind(this.codeKind, kind);
      this.onSearched({ mode: 'code', code, language: this.codeLanguage.value, kind });
      return this.run(
        { op: 'searchByCode', args: { code, language: this.codeLanguage.value || null, kind: kind || null } },
        (data) => `${CodeSearch.countOf(data.results.length, kind)} like this ${data.language ? `${data.language} code` : 'code'}`,
      );
    }

    /**
     * Runs one request, shows its results and drops the answers of requests that a newer one replaced.
     * describe(data): the results' heading, as text or as h() children.
     */
    async run({ op, args }, describe, backTo = null) {
      const generation = ++this.generation;
      const { owner, name } = this.repository;
      this.showResults([this.h('p', { class: 'status', text: 'Searching…' })], []);
      let data;
      try {
        data = await CodeSearch.background.api(op, { owner, name, limit: LIMIT, ...args });
      } catch (error) {
        if (generation === this.generation) this.showResults([], [this.h('p', { class: 'error', role: 'alert', text: error.message })]);
        return;
      }
      if (generation !== this.generation) return;
      const back = backTo && this.h('button', {
        type: 'button', class: 'link back', text: '← Back',
        onclick: () => { this.generation++; this.showResults(backTo.head, backTo.body); },
      });
      this.showResults(
        [back, this.h('p', { class: 'status' }, describe(data))],
        [CodeSearch.resultList(this.h, data.results, { onSimilar: (result) => this.showSimilar(result) })],
      );
    }

    showSimilar(result) {
      const backTo = { head: [...this.resultsHead.childNodes], body: [...this.resultsBody.childNodes] };
      return this.run(
        { op: 'similar', args: { id: result.id } },
        (data) => `${CodeSearch.countOf(data.results.length)} similar to ${CodeSearch.unitName(result)}`,
        backTo,
      );
    }

    showResults(head, body) {
      this.resultsHead.replaceChildren(...head.filter(Boolean));
      this.resultsBody.replaceChildren(...body);
    }
  }

  CodeSearch.SearchView = SearchView;
})();
