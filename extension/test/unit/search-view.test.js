// The sidebar's search forms: the kind filter, the scope (this repository or all), what they send, what the
// sidebar remembers and says.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');
const { fakeDocument } = require('./dom-shim');

const CodeSearch = load('lib/languages.js', 'lib/dom.js', 'lib/code-lines.js', 'lib/matched.js', 'lib/path-filters.js', 'lib/render.js', 'content/search-view.js');
const h = CodeSearch.elementBuilder(fakeDocument);

const REPOSITORY = {
  owner: 'example', name: 'sample', full_name: 'example/sample', indexed_commit: '0123abc', languages: ['python'],
  functions: 13, kinds: { function: 13, class: 1 },
};
const CLASS = {
  id: 9, repository: 'example/sample', language: 'python', kind: 'class', func_name: 'Stopwatch', path: 'sample/timeutil.py',
  start_line: 17, end_line: 25, code: 'class Stopwatch:', summary: '', url: 'https://github.com/example/sample/blob/0123abc/sample/timeutil.py#L17-L25',
  score: 0.5, match_percent: 50, highlight: [['k', 'class'], ['', ' '], ['nc', 'Stopwatch'], ['p', ':'], ['', '\n']],
};

/** A SearchView whose background answers every request with `results`, recording the requests and the searches kept. */
function view(repository = REPOSITORY, results = [CLASS]) {
  const requests = [];
  const searched = [];
  CodeSearch.background = {
    api: async (op, args) => {
      requests.push({ op, args });
      return { query: args.q, language: args.language ?? 'python', results };
    },
  };
  const searchView = new CodeSearch.SearchView(h, { repository, defaultLanguage: 'python', onSearched: (s) => searched.push(s) });
  return { searchView, requests, searched };
}

const kindSelect = (searchView, form) => searchView.panels[form].findAllTags('SELECT').find((el) => el.getAttribute('name') === 'kind') ?? null;
const submit = (searchView, form) => searchView.panels[form].dispatch('submit', { preventDefault() {} });

test('both forms offer the kinds the repository has, with their counts, and the meta line counts them', () => {
  const { searchView } = view({ ...REPOSITORY, kinds: { function: 13, class: 1, block: 4 } });
  for (const form of ['query', 'code']) {
    const select = kindSelect(searchView, form);
    assert.equal(select.getAttribute('aria-label'), 'Kind of code');
    assert.deepEqual(select.options.map((option) => [option.getAttribute('value'), option.textContent]),
      [['', 'all kinds'], ['function', 'functions (13)'], ['class', 'classes (1)'], ['block', 'blocks (4)']]);
    assert.equal(select.value, '');
  }
  assert.match(searchView.element.find('meta').textContent, /^13 functions, 1 class, 4 blocks · python · indexed at 0123abc$/);
  // The code form labels its fields; the query form, with no room for labels, has aria-labels.
  assert.deepEqual(searchView.panels.code.findAllTags('LABEL').map((label) => label.childNodes[0].textContent), ['Language', 'Kind']);
});

test('a repository with one kind, or a server from before kinds, gets no kind filter', () => {
  // The query form keeps its select, hidden, for the scope of every repository, which has every kind.
  assert.equal(kindSelect(view({ ...REPOSITORY, kinds: { function: 13, class: 0 } }).searchView, 'query').hidden, true);
  const old = view({ ...REPOSITORY, kinds: undefined }).searchView;
  assert.equal(kindSelect(old, 'query').hidden, true);
  assert.equal(kindSelect(old, 'code'), null);
  assert.match(old.element.find('meta').textContent, /^13 functions · /);
});

test('the chosen kind goes with the search, is remembered with it and is named in the count', async () => {
  const { searchView, requests, searched } = view();
  searchView.queryInput.value = 'lap times';
  kindSelect(searchView, 'query').value = 'class';
  submit(searchView, 'query');
  await new Promise(setImmediate);
  assert.deepEqual(requests.at(-1), { op: 'search', args: { owner: 'example', name: 'sample', limit: 10, q: 'lap times', language: null, kind: 'class' } });
  assert.deepEqual(searched.at(-1), { mode: 'query', q: 'lap times', language: '', kind: 'class', scope: 'repository' });
  assert.equal(searchView.resultsHead.find('status').textContent, '1 class for “lap times”');
  assert.equal(searchView.resultsBody.find('kind').textContent, 'class');

  kindSelect(searchView, 'query').value = '';
  submit(searchView, 'query');
  await new Promise(setImmediate);
  assert.equal(requests.at(-1).args.kind, null);
  assert.equal(searched.at(-1).kind, '');
  assert.equal(searchView.resultsHead.find('status').textContent, '1 result for “lap times”');
});

test('a remembered search gets its kind back; one the repository no longer has falls back to all kinds', async () => {
  const { searchView, requests } = view();
  await searchView.searchByQuery('lap times', '', 'class');
  assert.equal(kindSelect(searchView, 'query').value, 'class');
  assert.equal(requests.at(-1).args.kind, 'class');
  await searchView.searchByQuery('lap times', '', 'block');
  assert.equal(kindSelect(searchView, 'query').value, '');
  assert.equal(requests.at(-1).args.kind, null);
  await searchView.searchByQuery('lap times'); // remembered before there were kinds
  assert.equal(requests.at(-1).args.kind, null);
});

test('search by code sends the code form\'s kind, also when the context menu starts it', async () => {
  const { searchView, requests, searched } = view();
  kindSelect(searchView, 'code').value = 'class';
  await searchView.searchByCode('class Timer:\n    pass', 'python'); // as the context menu calls it
  assert.deepEqual(requests.at(-1), {
    op: 'searchByCode', args: { owner: 'example', name: 'sample', limit: 10, code: 'class Timer:\n    pass', language: 'python', kind: 'class' },
  });
  assert.equal(searched.at(-1).kind, 'class');
  assert.equal(searchView.resultsHead.find('status').textContent, '1 class like this python code');
  await searchView.searchByCode('x = 1', '', '');
  assert.equal(requests.at(-1).args.kind, null);
  assert.equal(kindSelect(searchView, 'code').value, '');
});

test('similar code names what it is similar to', async () => {
  const { searchView, requests } = view(REPOSITORY, [CLASS, { ...CLASS, id: 10, kind: 'block', func_name: 'pause', start_line: 11, end_line: 14 }]);
  await searchView.searchByQuery('lap times');
  searchView.resultsBody.findAll('similar')[1].dispatch('click');
  await new Promise(setImmediate);
  assert.deepEqual(requests.at(-1), { op: 'similar', args: { limit: 10, id: 10 } });
  assert.equal(searchView.resultsHead.find('status').textContent, '2 results similar to lines 11–14 of pause');
});

test('the query field is described by a hint about path: filters', () => {
  const { searchView } = view();
  const hint = searchView.panels.query.find('hint');
  assert.equal(hint.tagName, 'P');
  assert.equal(searchView.queryInput.getAttribute('aria-describedby'), hint.getAttribute('id'));
  assert.equal(hint.textContent, 'Narrow with path:folder, path:file.py or path:*.py');
  assert.deepEqual(hint.findAllTags('CODE').map((el) => el.textContent), ['path:folder', 'path:file.py', 'path:*.py']);
});

test('a query with path: filters goes as typed, is remembered as typed, and its heading names the filters', async () => {
  const { searchView, requests, searched } = view();
  searchView.queryInput.value = 'lap times path:sample/timeutil.py path:*.py';
  kindSelect(searchView, 'query').value = 'class';
  submit(searchView, 'query');
  await new Promise(setImmediate);
  assert.equal(requests.at(-1).args.q, 'lap times path:sample/timeutil.py path:*.py');
  assert.equal(searched.at(-1).q, 'lap times path:sample/timeutil.py path:*.py');
  const status = searchView.resultsHead.find('status');
  assert.equal(status.textContent, '1 class in sample/timeutil.py or *.py for “lap times”');
  assert.deepEqual(status.findAll('path-filter').map((el) => el.textContent), ['sample/timeutil.py', '*.py']);
  assert.equal(searchView.queryInput.value, 'lap times path:sample/timeutil.py path:*.py');
});

const languageSelect = (searchView) => searchView.panels.query.findAllTags('SELECT').find((el) => el.getAttribute('name') === 'language');
const optionValues = (select) => select.options.map((option) => option.getAttribute('value'));
/** A result of another repository, as the search across all of them answers. */
const ELSEWHERE = {
  ...CLASS, id: 31, repository: 'example/hostile', func_name: 'render_banner', kind: 'function', path: 'hostile/markup.py',
  url: 'https://github.com/example/hostile/blob/feedbee/hostile/markup.py#L2-L5',
};
const settle = () => new Promise(setImmediate);

test('the query form offers this repository (chosen) or all indexed repositories, above its field', () => {
  const { searchView } = view();
  const group = searchView.panels.query.find('scope');
  assert.equal(group.getAttribute('role'), 'radiogroup');
  assert.equal(group.getAttribute('aria-label'), 'Where to search');
  assert.deepEqual(group.findAll('scope-option').map((label) => label.textContent), ['This repository', 'All indexed repositories']);
  const radios = group.findAllTags('INPUT');
  assert.deepEqual(radios.map((radio) => [radio.getAttribute('type'), radio.getAttribute('name'), radio.getAttribute('value')]),
    [['radio', 'scope', 'repository'], ['radio', 'scope', 'all']]);
  assert.deepEqual(radios.map((radio) => radio.getAttribute('checked')), ['', null]);
  // Before the field, so that Tab goes from the field to its filters.
  const fields = searchView.panels.query.children;
  assert.ok(fields.indexOf(group) < fields.indexOf(searchView.queryInput));
  // Search by code looks in this repository only: its form has no scope.
  assert.equal(searchView.panels.code.find('scope'), null);
});

test('"All indexed repositories" searches everywhere: no repository sent, every language and kind offered, each result names its repository', async () => {
  const { searchView, requests, searched } = view(REPOSITORY, [ELSEWHERE, CLASS]);
  assert.equal(languageSelect(searchView).hidden, true); // the repository has one language
  searchView.scopeRadios.all.checked = true;
  searchView.scopeRadios.all.dispatch('change'); // nothing typed yet: nothing searched
  assert.equal(requests.length, 0);
  assert.equal(languageSelect(searchView).hidden, false);
  assert.deepEqual(optionValues(languageSelect(searchView)), ['', 'go', 'java', 'javascript', 'php', 'python', 'ruby']);
  assert.deepEqual(kindSelect(searchView, 'query').options.map((option) => option.textContent), ['all kinds', 'functions', 'classes', 'blocks']);

  searchView.queryInput.value = 'html banner';
  kindSelect(searchView, 'query').value = 'function';
  languageSelect(searchView).value = 'python';
  submit(searchView, 'query');
  await settle();
  assert.deepEqual(requests.at(-1), { op: 'searchAll', args: { limit: 10, q: 'html banner', language: 'python', kind: 'function' } });
  assert.deepEqual(searched.at(-1), { mode: 'query', q: 'html banner', language: 'python', kind: 'function', scope: 'all' });
  assert.equal(searchView.resultsHead.find('status').textContent, '2 functions across all repositories for “html banner”');
  const shown = searchView.resultsBody.findAll('repository');
  assert.deepEqual(shown.map((el) => [el.tagName, el.textContent, el.getAttribute('href')]), [
    ['A', 'example/hostile', 'https://github.com/example/hostile/tree/feedbee'],
    ['A', 'example/sample', 'https://github.com/example/sample/tree/0123abc'],
  ]);
  assert.equal(searchView.resultsBody.find('location').getAttribute('href'), ELSEWHERE.url);
});

test('changing the scope searches the typed words again there; back in this repository, a choice it lacks falls back', async () => {
  const { searchView, requests, searched } = view(REPOSITORY, [ELSEWHERE]);
  await searchView.searchByQuery('html banner', '', 'function', 'all');
  assert.equal(searchView.scopeRadios.all.checked, true);
  kindSelect(searchView, 'query').value = 'block';
  searchView.scopeRadios.repository.checked = true;
  searchView.scopeRadios.repository.dispatch('change');
  await settle();
  // example/sample has functions and classes, no blocks: every kind, then.
  assert.deepEqual(requests.at(-1), { op: 'search', args: { owner: 'example', name: 'sample', limit: 10, q: 'html banner', language: null, kind: null } });
  assert.deepEqual(searched.at(-1), { mode: 'query', q: 'html banner', language: '', kind: '', scope: 'repository' });
  assert.equal(searchView.scopeRadios.all.checked, false);
  assert.deepEqual(kindSelect(searchView, 'query').options.map((option) => option.textContent), ['all kinds', 'functions (13)', 'classes (1)']);
  assert.equal(searchView.resultsHead.find('status').textContent, '1 result for “html banner”');
  assert.equal(searchView.resultsBody.find('repository'), null);
  // A search remembered from before scopes looks where the form says.
  await searchView.searchByQuery('lap times', '', 'class');
  assert.equal(requests.at(-1).op, 'search');
});

test('similar code of a result from all repositories names that repository', async () => {
  const { searchView, requests } = view(REPOSITORY, [ELSEWHERE]);
  await searchView.searchByQuery('html banner', '', '', 'all');
  searchView.resultsBody.find('similar').dispatch('click');
  await settle();
  assert.deepEqual(requests.at(-1), { op: 'similar', args: { limit: 10, id: 31 } });
  assert.equal(searchView.resultsHead.find('status').textContent, '1 result similar to render_banner in example/hostile');
  assert.equal(searchView.resultsBody.find('repository').textContent, 'example/hostile');
});

test('on a repository the server has not indexed, the view searches all indexed repositories only', async () => {
  const { searchView, requests, searched } = view(null, [ELSEWHERE]);
  assert.equal(searchView.element.tagName, 'SECTION');
  assert.equal(searchView.element.find('everywhere-title').textContent, 'Search all indexed repositories');
  assert.equal(searchView.element.find('scope'), null);
  assert.equal(searchView.element.find('tab'), null);
  assert.equal(searchView.element.find('meta'), null);
  assert.equal(searchView.element.findAllTags('TEXTAREA').length, 0);
  assert.equal(searchView.panels.query.find('hint').textContent, 'Narrow with path:folder, path:file.py or path:*.py');

  searchView.queryInput.value = 'html banner path:*.py';
  submit(searchView, 'query');
  await settle();
  assert.deepEqual(requests.at(-1), { op: 'searchAll', args: { limit: 10, q: 'html banner path:*.py', language: null, kind: null } });
  assert.equal(searched.at(-1).scope, 'all');
  assert.equal(searchView.resultsHead.find('status').textContent, '1 result in *.py across all repositories for “html banner”');
  assert.equal(searchView.resultsBody.find('repository').textContent, 'example/hostile');
  // A remembered search of this repository alone can only look everywhere now.
  await searchView.searchByQuery('send mail', '', '', 'repository');
  assert.equal(requests.at(-1).op, 'searchAll');

  // Search by code (the context menu) needs an indexed repository: it says so, and asks nothing.
  const asked = requests.length;
  await searchView.searchByCode('def f(): pass', 'python');
  assert.equal(requests.length, asked);
  assert.match(searchView.resultsBody.find('note').textContent, /^Search by code looks in an indexed repository, and this one is not indexed yet/);
});

test('a search by query whose mistyped words the server corrected says what it searched, above the count, as text', async () => {
  const { searchView } = view();
  const answers = { 'sned <b>mial</b>': 'send <b>mail</b>', 'send mail': null };
  CodeSearch.background = { api: async (op, args) => ({ query: args.q, corrected: answers[args.q], results: [CLASS] }) };
  for (const scope of ['repository', 'all']) {
    await searchView.searchByQuery('sned <b>mial</b>', '', '', scope);
    const [line, status] = searchView.resultsHead.children;
    assert.equal(line.getAttribute('class'), 'corrected');
    assert.equal(line.textContent, 'Showing results for send <b>mail</b>');
    assert.deepEqual(line.findAllTags('STRONG').map((el) => el.childNodes.map((node) => node.nodeType)), [[3]]);
    assert.equal(line.findAllTags('B').length, 0);
    assert.equal(status.getAttribute('class'), 'status');

    await searchView.searchByQuery('send mail', '', '', scope);
    assert.equal(searchView.resultsHead.find('corrected'), null);
  }
  // Search by code and similar code are searched as given: nothing corrected to say.
  CodeSearch.background = { api: async () => ({ language: 'python', corrected: 'send mail', results: [CLASS] }) };
  await searchView.searchByCode('def f(): pass', 'python');
  assert.equal(searchView.resultsHead.find('corrected'), null);
});
