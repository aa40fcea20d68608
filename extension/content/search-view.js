// The sidebar's search: "Search by query" and "Search by code" tabs for an indexed repository, each with its
// language and kind filters (functions, classes, blocks), results, similar code. A search by query looks in
// this repository or, by the scope choice above its field, in every repository the server has indexed (each
// result then names its repository). The query may hold path: filters (a hint under it says so); the server
// reads them, and the results' heading names them. On a repository the server hasn't indexed, the view
// offers only the search across every indexed repository.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;

  const LIMIT = 10;

  class SearchView {
    /**
     * repository: the API's repository object, or null for a repository the server hasn't indexed (then only
     * the search across every indexed repository is offered); scope: where a search by query looks first,
     * 'repository' (the default) or 'all'; onSearched(search) lets the caller keep the last search.
     */
    constructor(h, { repository, defaultLanguage = null, onSearched = () => {}, scope = 'repository' }) {
      this.h = h;
      this.repository = repository ?? null;
      this.onSearched = onSearched;
      this.generation = 0;
      this.scope = SearchView.scopeFor(this.repository, scope);
      this.element = this.build(defaultLanguage);
    }

    /** Only an indexed repository can be searched alone. */
    static scopeFor(repository, scope) {
      return repository && scope !== 'all' ? 'repository' : 'all';
    }

    build(defaultLanguage) {
      const h = this.h;
      this.queryInput = h('input', {
        type: 'search', name: 'q', maxlength: 300, 'aria-label': 'What should the code do?',
        placeholder: 'What should the code do? e.g. send mail', 'aria-describedby': 'query-hint',
      });
      // Their options follow the scope: this repository's languages and kinds (with counts), or all of them.
      this.queryLanguage = h('select', { name: 'language', 'aria-label': 'Language' });
      this.queryKind = h('select', { name: 'kind', 'aria-label': 'Kind of code' });
      this.scopeChoice = this.repository ? this.scopeGroup() : null;
      this.fillQueryFilters();
      const queryForm = h('form', { class: 'query-form', role: 'tabpanel', onsubmit: (event) => this.submit(event, 'query') }, [
        this.scopeChoice,
        this.queryInput, this.queryLanguage, this.queryKind, h('button', { type: 'submit', class: 'primary', text: 'Search' }),
        // Read with the field (aria-describedby): path: filters go in the query, as on GitHub and on the site.
        h('p', { class: 'hint', id: 'query-hint' }, [
          'Narrow with ', h('code', { text: 'path:folder' }), ', ', h('code', { text: 'path:file.py' }),
          ' or ', h('code', { text: 'path:*.py' }),
        ]),
      ]);
      this.resultsHead = h('div', { class: 'results-head' });
      this.resultsBody = h('div', { class: 'results-body' });
      const results = h('div', { class: 'results-area', 'aria-live': 'polite' }, [this.resultsHead, this.resultsBody]);

      if (!this.repository) {
        this.tabs = {};
        this.panels = { query: queryForm };
        return h('section', { class: 'search-view search-everywhere', 'aria-labelledby': 'everywhere-title' }, [
          h('h2', { class: 'everywhere-title', id: 'everywhere-title', text: 'Search all indexed repositories' }),
          queryForm,
          results,
        ]);
      }

      const { languages, indexed_commit: commit } = this.repository;
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
        query: queryForm,
        code: h('form', { class: 'code-form', role: 'tabpanel', hidden: true, onsubmit: (event) => this.submit(event, 'code') }, [
          this.codeInput,
          h('label', { class: 'field' }, ['Language', this.codeLanguage]),
          this.codeKind && h('label', { class: 'field' }, ['Kind', this.codeKind]),
          h('button', { type: 'submit', class: 'primary', text: 'Find similar functions' }),
        ]),
      };
      return h('div', { class: 'search-view' }, [
        h('p', { class: 'meta' }, [
          `${CodeSearch.unitCounts(this.repository)} · ${languages.join(', ')} · indexed at `, h('code', { text: commit }),
        ]),
        h('div', { class: 'tabs', role: 'tablist' }, Object.values(this.tabs)),
        Object.values(this.panels),
        results,
      ]);
    }

    tab(name, label) {
      return this.h('button', {
        type: 'button', class: 'tab', role: 'tab', 'aria-selected': String(name === 'query'),
        text: label, onclick: () => this.selectTab(name),
      });
    }

    /** "This repository" or "All indexed repositories", for the search by query; choosing one searches again. */
    scopeGroup() {
      const h = this.h;
      this.scopeRadios = {};
      const option = (scope, label) => {
        this.scopeRadios[scope] = h('input', {
          type: 'radio', name: 'scope', value: scope, checked: this.scope === scope,
          onchange: () => this.changeScope(scope),
        });
        return h('label', { class: 'scope-option' }, [this.scopeRadios[scope], label]);
      };
      return h('div', { class: 'scope', role: 'radiogroup', 'aria-label': 'Where to search' }, [
        option('repository', 'This repository'),
        option('all', 'All indexed repositories'),
      ]);
    }

    changeScope(scope) {
      this.setScope(scope);
      // The words already typed are searched again where the user now asks: nothing else would change.
      if (this.queryInput.value.trim()) {
        this.searchByQuery(this.queryInput.value, this.queryLanguage.value, this.queryKind.value);
      }
    }

    setScope(scope) {
      this.scope = SearchView.scopeFor(this.repository, scope);
      for (const [name, radio] of Object.entries(this.scopeRadios ?? {})) radio.checked = name === this.scope;
      this.fillQueryFilters();
    }

    /**
     * The query form's language and kind filters for the scope: this repository's languages and the kinds it
     * has, with their counts; or, across every repository, every language and kind. A filter with nothing to
     * choose between is hidden. The choice made stays if the new options have it.
     */
    fillQueryFilters() {
      const h = this.h;
      const everywhere = this.scope === 'all';
      const languages = everywhere ? CodeSearch.LANGUAGES : this.repository.languages;
      SearchView.refill(this.queryLanguage, [
        h('option', { value: '', text: 'all languages' }),
        languages.map((language) => h('option', { value: language, text: language })),
      ], languages.length > 1);
      const kinds = everywhere ? null : (this.repository.kinds ?? {});
      const offered = everywhere ? CodeSearch.KINDS : CodeSearch.KINDS.filter((kind) => Number(kinds[kind]) > 0);
      SearchView.refill(this.queryKind, SearchView.kindOptions(h, offered, kinds), offered.length > 1);
    }

    static refill(select, options, shown) {
      const kept = select.value;
      select.replaceChildren(...options.flat());
      select.hidden = !shown;
      SearchView.chooseKind(select, kept);
    }

    languageSelect(anyLabel, selected) {
      const h = this.h;
      return h('select', { name: 'language', 'aria-label': 'Language' }, [
        h('option', { value: '', text: anyLabel }),
        this.repository.languages.map((language) =>
          h('option', { value: language, selected: language === selected, text: language })),
      ]);
    }

    /** "all kinds", then each kind offered: "classes (14)" with a count, the word first so that typing its first letter chooses it. */
    static kindOptions(h, kinds, counts = null) {
      return [
        h('option', { value: '', text: 'all kinds' }),
        kinds.map((kind) => h('option', {
          value: kind, text: counts ? `${CodeSearch.PLURAL[kind]} (${Number(counts[kind])})` : CodeSearch.PLURAL[kind],
        })),
      ];
    }

    /**
     * Functions, classes or blocks only, in the code form: offered when the repository has more than one of
     * them (a server from before classes and blocks has no `kinds`, and only functions).
     */
    kindSelect() {
      const kinds = this.repository.kinds ?? {};
      const present = CodeSearch.KINDS.filter((kind) => Number(kinds[kind]) > 0);
      if (present.length < 2) return null;
      return this.h('select', { name: 'kind', 'aria-label': 'Kind of code' }, SearchView.kindOptions(this.h, present, kinds));
    }

    /**
     * Selects the value if the select offers it (a remembered one may not be), else the first option ('': all
     * kinds, all languages); returns what is selected. A hidden select offers nothing.
     */
    static chooseKind(select, kind) {
      if (!select) return '';
      const offered = !select.hidden && [...select.options].some((option) => option.value === kind);
      select.value = offered ? kind : '';
      return select.value;
    }

    selectTab(name) {
      for (const [tabName, tab] of Object.entries(this.tabs)) {
        tab.setAttribute('aria-selected', String(tabName === name));
        this.panels[tabName].hidden = tabName !== name;
      }
    }

    focus() {
      const field = this.panels.code && !this.panels.code.hidden ? this.codeInput : this.queryInput;
      field.focus({ preventScroll: true });
    }

    submit(event, mode) {
      event.preventDefault();
      if (mode === 'query') this.searchByQuery(this.queryInput.value, this.queryLanguage.value, this.queryKind.value);
      else this.searchByCode(this.codeInput.value, this.codeLanguage.value, this.codeKind?.value);
    }

    /** This repository's owner and name, as the API's per-repository operations take them. */
    where() {
      const { owner, name } = this.repository;
      return { owner, name };
    }

    /**
     * kind: '' for every kind; scope: 'repository' or 'all', by default the one chosen (a search remembered from
     * before kinds or scopes has neither).
     */
    searchByQuery(q, language = '', kind = '', scope = this.scope) {
      this.selectTab('query');
      this.queryInput.value = q;
      if (SearchView.scopeFor(this.repository, scope) !== this.scope) this.setScope(scope);
      language = SearchView.chooseKind(this.queryLanguage, language ?? '');
      kind = SearchView.chooseKind(this.queryKind, kind);
      const everywhere = this.scope === 'all';
      this.onSearched({ mode: 'query', q, language, kind, scope: this.scope });
      return this.run(
        everywhere
          ? { op: 'searchAll', args: { q, language: language || null, kind: kind || null } }
          : { op: 'search', args: { ...this.where(), q, language: language || null, kind: kind || null } },
        // The server echoes the query as typed; its path: filters, if any, are named in the heading.
        (data) => CodeSearch.queryHeading(this.h, { count: data.results.length, kind, query: data.query ?? q, everywhere }),
        { showRepository: everywhere, above: (data) => CodeSearch.correctedLine(this.h, data.corrected) },
      );
    }

    /** kind: '' for every kind; by default the kind the code form shows (the context menu passes none). */
    searchByCode(code, language = '', kind = this.codeKind?.value ?? '') {
      if (!this.repository) {
        // The server finds code like a snippet within one repository, and this one isn't indexed yet.
        this.showResults([], [this.h('p', {
          class: 'note', text: 'Search by code looks in an indexed repository, and this one is not indexed yet. You can search all indexed repositories by words.',
        })]);
        return Promise.resolve();
      }
      this.selectTab('code');
      this.codeInput.value = code;
      // A language the repository doesn't have can't match anything here, so let the server detect instead.
      this.codeLanguage.value = this.repository.languages.includes(language) ? language : '';
      kind = SearchView.chooseKind(this.codeKind, kind);
      this.onSearched({ mode: 'code', code, language: this.codeLanguage.value, kind });
      return this.run(
        { op: 'searchByCode', args: { ...this.where(), code, language: this.codeLanguage.value || null, kind: kind || null } },
        (data) => `${CodeSearch.countOf(data.results.length, kind)} like this ${data.language ? `${data.language} code` : 'code'}`,
      );
    }

    /**
     * Runs one request, shows its results and drops the answers of requests that a newer one replaced.
     * describe(data): the results' heading, as text or as h() children; above(data): an element for over the
     * heading, or null; backTo: what Back shows again; showRepository: each result names its repository
     * (results from every repository).
     */
    async run({ op, args }, describe, { above = () => null, backTo = null, showRepository = false } = {}) {
      const generation = ++this.generation;
      this.showResults([this.h('p', { class: 'status', text: 'Searching…' })], []);
      let data;
      try {
        data = await CodeSearch.background.api(op, { limit: LIMIT, ...args });
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
        [back, above(data), this.h('p', { class: 'status' }, describe(data))],
        [CodeSearch.resultList(this.h, data.results, {
          onSimilar: (result) => this.showSimilar(result, showRepository), showRepository,
        })],
      );
    }

    /** Similar code comes from the result's own repository, named when the results came from every repository. */
    showSimilar(result, showRepository = false) {
      const backTo = { head: [...this.resultsHead.childNodes], body: [...this.resultsBody.childNodes] };
      const from = showRepository && result.repository ? ` in ${result.repository}` : '';
      return this.run(
        { op: 'similar', args: { id: result.id } },
        (data) => `${CodeSearch.countOf(data.results.length)} similar to ${CodeSearch.unitName(result)}${from}`,
        { backTo, showRepository },
      );
    }

    showResults(head, body) {
      this.resultsHead.replaceChildren(...head.filter(Boolean));
      this.resultsBody.replaceChildren(...body);
    }
  }

  CodeSearch.SearchView = SearchView;
})();
