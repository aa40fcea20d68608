// One repository's sidebar: asks the server whether the repository is indexed, shows the matching view (its
// search, or an offer to index it with the search across every indexed repository below), and keeps the
// tab's sidebar state (open, last search) so it survives GitHub's full-page navigations.
(() => {
  'use strict';
  const CodeSearch = globalThis.CodeSearch;

  class Controller {
    constructor(sidebar, page, savedState) {
      this.sidebar = sidebar;
      this.page = page;
      this.h = sidebar.h;
      this.view = null;
      // The last search in this tab is shown again, but only once the sidebar is open.
      this.pendingSearch = savedState?.fullName === page.fullName ? savedState.search : null;
      this.state = { fullName: page.fullName, open: Boolean(savedState?.open), search: this.pendingSearch };
      this.ready = this.load();
      if (this.state.open) {
        sidebar.open();
        this.replayPendingSearch();
      }
    }

    async load() {
      const { owner, name, fullName } = this.page;
      const h = this.h;
      this.view = null;
      this.sidebar.setRepository(fullName, 'asking');
      this.sidebar.show(h('p', { class: 'status', text: `Asking the codesearch server about ${fullName}…` }));
      let repository = null;
      try {
        repository = await CodeSearch.background.api('repository', { owner, name });
      } catch (error) {
        if (error.status !== 404) return this.showError(error);
      }
      if (repository?.indexed_commit) this.showSearch(repository);
      else this.showIndex(repository);
    }

    showSearch(repository) {
      this.sidebar.setRepository(this.page.fullName, 'indexed');
      this.view = new CodeSearch.SearchView(this.h, {
        repository,
        defaultLanguage: CodeSearch.languageOfFile(this.page.fileName),
        onSearched: (search) => this.remember({ search }),
      });
      this.sidebar.show(this.view.element);
      if (this.sidebar.isOpen) this.view.focus();
    }

    /** Not indexed: the offer to index it, and below it the search across every repository the server has. */
    showIndex(repository) {
      const { owner, name } = this.page;
      this.sidebar.setRepository(this.page.fullName, 'not-indexed');
      const view = new CodeSearch.IndexView(this.h, {
        owner, name, job: repository?.job,
        onIndexed: () => { this.ready = this.load(); },
      });
      this.view = new CodeSearch.SearchView(this.h, { repository: null, onSearched: (search) => this.remember({ search }) });
      this.sidebar.show(view.element, this.view.element);
    }

    showError(error) {
      const h = this.h;
      this.sidebar.setRepository(this.page.fullName, 'error');
      this.sidebar.show(
        h('p', { class: 'error', role: 'alert', text: error.message }),
        error.unreachable ? h('p', { class: 'note', text: 'Is the server running? Its address is in Settings, below.' }) : null,
        h('button', { type: 'button', class: 'primary', text: 'Try again', onclick: () => { this.ready = this.load(); } }),
      );
    }

    onToggle(open) {
      this.remember({ open });
      if (!open) return;
      this.replayPendingSearch();
      this.view?.focus();
    }

    toggle() {
      this.sidebar.toggle();
    }

    /** The context menu's "Search by code": opens the sidebar and searches once the repository's state is known. */
    async searchByCode(code, language) {
      this.pendingSearch = null;
      this.sidebar.open();
      await this.ready;
      this.view?.searchByCode(code, language);
    }

    async replayPendingSearch() {
      const search = this.pendingSearch;
      if (!search) return;
      this.pendingSearch = null;
      await this.ready;
      if (search.mode === 'query') this.view?.searchByQuery(search.q, search.language, search.kind, search.scope);
      else this.view?.searchByCode(search.code, search.language, search.kind);
    }

    remember(patch) {
      this.state = { ...this.state, ...patch };
      CodeSearch.background.saveTabState(this.state).catch(() => {});
    }
  }

  CodeSearch.Controller = Controller;
})();
