const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');
const { fakeDocument } = require('./dom-shim');

const CodeSearch = load('lib/dom.js', 'lib/code-lines.js', 'lib/matched.js', 'lib/path-filters.js', 'lib/render.js');
const h = CodeSearch.elementBuilder(fakeDocument);

const RESULT = {
  id: 5, repository: 'example/sample', language: 'python', func_name: 'Stopwatch.lap', path: 'sample/timeutil.py',
  start_line: 22, end_line: 25, code: 'def lap(self):\n    return 1', summary: 'Time since the start.',
  url: 'https://github.com/example/sample/blob/0123abc/sample/timeutil.py#L22-L25', score: 0.8312, match_percent: 83,
  highlight: [['k', 'def'], ['', ' '], ['nf', 'lap'], ['p', '(self):'], ['', '\n    '], ['k', 'return'], ['', ' 1\n']],
};

test('a result shows rating, qualified name, linked location, summary and highlighted numbered code', () => {
  const item = CodeSearch.resultItem(h, RESULT);
  assert.equal(item.find('rating').textContent, '83%');
  assert.equal(item.find('func').textContent, 'Stopwatch.lap');
  const location = item.find('location');
  assert.equal(location.tagName, 'A');
  assert.equal(location.getAttribute('href'), RESULT.url);
  assert.equal(location.textContent, 'sample/timeutil.py:22–25');
  assert.equal(item.find('summary').textContent, 'Time since the start.');
  const lines = item.findAll('line');
  assert.deepEqual(lines.map((line) => line.find('ln').textContent), ['22', '23']);
  assert.equal(lines[0].textContent, '22def lap(self):');
  assert.deepEqual(item.findAll('nf').map((span) => span.textContent), ['lap']);
  assert.equal(item.find('similar'), null);
  assert.equal(CodeSearch.resultItem(h, RESULT, { onSimilar: () => {} }).find('similar').textContent, 'Similar code to Stopwatch.lap');
});

test('markup from the server stays text, and non-http links are not linked', () => {
  const item = CodeSearch.resultItem(h, { ...RESULT, func_name: '<img src=x onerror=alert(1)>', url: 'javascript:alert(1)' });
  const func = item.find('func');
  assert.equal(func.childNodes.length, 1);
  assert.equal(func.childNodes[0].nodeType, 3);
  assert.equal(func.textContent, '<img src=x onerror=alert(1)>');
  assert.equal(item.find('location').tagName, 'SPAN');
  assert.equal(item.find('location').getAttribute('href'), null);
});

test('"Similar functions" calls back with its result; an empty list says so', () => {
  const asked = [];
  const list = CodeSearch.resultList(h, [RESULT, { ...RESULT, id: 6 }], { onSimilar: (result) => asked.push(result.id) });
  assert.equal(list.tagName, 'OL');
  list.findAll('similar')[1].dispatch('click');
  assert.deepEqual(asked, [6]);
  assert.equal(CodeSearch.resultList(h, [], {}).textContent, 'No results.');
});

test('each result shows its kind: a muted "function", a plain "class" and "block"', () => {
  const fn = CodeSearch.resultItem(h, { ...RESULT, kind: 'function' });
  assert.equal(fn.find('kind').textContent, 'function');
  assert.equal(fn.find('kind').getAttribute('class'), 'kind kind-function');
  assert.equal(fn.find('kind').getAttribute('title'), 'a function');
  assert.equal(fn.getAttribute('data-kind'), 'function');
  // A server from before kinds sends none: all it has are functions.
  assert.equal(CodeSearch.resultItem(h, RESULT).find('kind').textContent, 'function');

  const cls = CodeSearch.resultItem(h, { ...RESULT, kind: 'class', func_name: 'Stopwatch', start_line: 17 }, { onSimilar: () => {} });
  assert.equal(cls.find('kind').textContent, 'class');
  assert.equal(cls.find('kind').getAttribute('class'), 'kind kind-class');
  assert.match(cls.find('kind').getAttribute('title'), /^a class, struct, interface, trait or module/);
  assert.equal(cls.find('func').textContent, 'Stopwatch');
  assert.equal(cls.getAttribute('data-kind'), 'class');
  assert.equal(cls.find('result-head').find('visually-hidden'), null);
  assert.equal(cls.find('similar').textContent, 'Similar code to class Stopwatch');
});

test('a block says, in its tooltip and to screen readers, that it is lines of the named function', () => {
  const block = CodeSearch.resultItem(h, { ...RESULT, kind: 'block', func_name: 'Parser.parse_args', start_line: 40, end_line: 52 },
    { onSimilar: () => {} });
  const badge = block.find('kind');
  assert.equal(badge.textContent, 'block');
  assert.equal(badge.getAttribute('class'), 'kind kind-block');
  assert.equal(badge.getAttribute('title'), 'lines 40–52 of Parser.parse_args');
  const head = block.find('result-head');
  assert.equal(head.find('visually-hidden').textContent, ': lines 40–52 of Parser.parse_args');
  assert.equal(head.textContent, '83%Parser.parse_argsblock: lines 40–52 of Parser.parse_args');
  assert.equal(block.find('location').textContent, 'sample/timeutil.py:40–52');
  assert.equal(block.find('similar').textContent, 'Similar code to lines 40–52 of Parser.parse_args');
  assert.equal(CodeSearch.unitName({ kind: 'block', func_name: 'f', start_line: 3, end_line: 3 }), 'line 3 of f');
});

test('a kind the extension does not know is shown as text, never as markup or a class name of its own', () => {
  const item = CodeSearch.resultItem(h, { ...RESULT, kind: '<b onmouseover=alert(1)>x</b>' });
  const badge = item.find('kind');
  assert.equal(badge.getAttribute('class'), 'kind kind-other');
  assert.equal(badge.childNodes.length, 1);
  assert.equal(badge.childNodes[0].nodeType, 3);
  assert.equal(badge.textContent, '<b onmouseover=alert(1)>x</b>');
  assert.equal(item.getAttribute('data-kind'), null);
});

test('counts name their kind; a repository counts its functions, classes and blocks', () => {
  assert.equal(CodeSearch.countOf(1), '1 result');
  assert.equal(CodeSearch.countOf(10, ''), '10 results');
  assert.equal(CodeSearch.countOf(1, 'class'), '1 class');
  assert.equal(CodeSearch.countOf(2, 'class'), '2 classes');
  assert.equal(CodeSearch.countOf(0, 'block'), '0 blocks');
  assert.equal(CodeSearch.countOf(1, 'function'), '1 function');
  assert.equal(CodeSearch.unitCounts({ functions: 120, kinds: { block: 30, function: 120, class: 14 } }),
    '120 functions, 14 classes, 30 blocks');
  assert.equal(CodeSearch.unitCounts({ functions: 12, kinds: { function: 12, class: 1, block: 0 } }), '12 functions, 1 class');
  assert.equal(CodeSearch.unitCounts({ functions: 7 }), '7 functions');
});

test('a job shows its status, stage, progress and message', () => {
  const job = CodeSearch.jobProgress(h, { id: 1, status: 'running', stage: 'training', progress: 0.426, message: 'epoch 3 of 8' });
  assert.equal(job.getAttribute('class'), 'job job-running');
  assert.equal(job.find('job-stage').textContent, 'Indexing: training');
  const bar = job.children.find((child) => child.tagName === 'PROGRESS');
  assert.equal(bar.getAttribute('value'), '43');
  assert.equal(job.find('job-message').textContent, 'epoch 3 of 8');
  const queued = CodeSearch.jobProgress(h, { id: 2, status: 'queued', stage: '', progress: null, message: '' });
  assert.equal(queued.find('job-stage').textContent, 'Waiting for a worker');
  assert.equal(queued.children.find((child) => child.tagName === 'PROGRESS').getAttribute('value'), null);
  assert.equal(queued.find('job-message'), null);
});

test('an indexing request the server refuses says how to get access, or when to try again', () => {
  let opened = 0;
  const refusal = (error) => CodeSearch.indexingRefusal(h, error, { openSettings: () => { opened += 1; } });
  const anonymous = refusal({ status: 401, message: 'server text' });
  assert.equal(anonymous.getAttribute('role'), 'alert');
  assert.match(anonymous.textContent, /needs an access token from this server’s staff; paste it in the extension’s options/);
  anonymous.find('open-settings').dispatch('click');
  assert.equal(opened, 1);
  const forbidden = refusal({ status: 403, message: 'server text' });
  assert.match(forbidden.textContent, /may not request indexing on this server; ask its staff/);
  assert.ok(forbidden.find('open-settings'));
  const limited = refusal({ status: 429, retryAfter: 3600, message: 'server text' });
  assert.match(limited.textContent, /try again later \(in about 60 minutes\)\.$/);
  assert.equal(limited.find('open-settings'), null);
  assert.match(refusal({ status: 429, retryAfter: null }).textContent, /try again later\.$/);
  assert.equal(refusal({ status: 500, message: 'The server answered 500.' }).textContent, 'The server answered 500.');
});

test('a search by query\'s heading counts the results and, when the query has path: filters, names them as code', () => {
  const heading = (args) => h('p', {}, CodeSearch.queryHeading(h, args));
  assert.equal(heading({ count: 10, query: 'send mail' }).textContent, '10 results for “send mail”');
  assert.equal(heading({ count: 1, kind: 'class', query: 'send mail' }).textContent, '1 class for “send mail”');

  const one = heading({ count: 3, query: 'send mail path:sample/mailer.py' });
  assert.equal(one.textContent, '3 results in sample/mailer.py for “send mail”');
  assert.deepEqual(one.findAll('path-filter').map((el) => [el.tagName, el.textContent]), [['CODE', 'sample/mailer.py']]);

  const three = heading({ count: 2, kind: 'block', query: 'path:/sample  write a report path:*.py path:docs/' });
  assert.equal(three.textContent, '2 blocks in /sample, *.py or docs/ for “write a report”');
  assert.deepEqual(three.findAll('path-filter').map((el) => el.textContent), ['/sample', '*.py', 'docs/']);
  assert.equal(heading({ count: 0, query: 'mail path:nowhere/' }).textContent, '0 results in nowhere/ for “mail”');
  // Filters alone get a 400 from the server; were they answered, the heading would say the query as typed.
  assert.equal(heading({ count: 0, query: ' path:a ' }).textContent, '0 results in a for “path:a”');
  // Across every repository, the heading says so.
  assert.equal(heading({ count: 6, query: 'html banner', everywhere: true }).textContent, '6 results across all repositories for “html banner”');
  assert.equal(heading({ count: 2, kind: 'class', query: 'send mail path:mailer.py', everywhere: true }).textContent,
    '2 classes in mailer.py across all repositories for “send mail”');
});

test('a result from any repository names its repository, linked to it at the indexed commit, when asked to', () => {
  assert.equal(CodeSearch.resultItem(h, RESULT).find('repository'), null);
  const item = CodeSearch.resultItem(h, RESULT, { showRepository: true });
  const repository = item.find('repository');
  assert.equal(repository.tagName, 'A');
  assert.equal(repository.textContent, 'example/sample');
  assert.equal(repository.getAttribute('href'), 'https://github.com/example/sample/tree/0123abc');
  assert.equal(repository.getAttribute('title'), 'Open example/sample on GitHub');
  // Its lines keep their own link, after the repository's name.
  assert.equal(item.find('location').getAttribute('href'), RESULT.url);
  const head = item.children;
  assert.ok(head.indexOf(repository) < head.indexOf(item.find('location')));
  // Without a usable link to its lines, the name is text; markup in it stays text.
  const odd = CodeSearch.resultItem(h, { ...RESULT, repository: '<b>x</b>/y', url: 'javascript:alert(1)' }, { showRepository: true });
  assert.equal(odd.find('repository').tagName, 'SPAN');
  assert.equal(odd.find('repository').childNodes[0].nodeType, 3);
  assert.equal(odd.find('repository').textContent, '<b>x</b>/y');
  assert.equal(CodeSearch.resultItem(h, { ...RESULT, repository: '' }, { showRepository: true }).find('repository'), null);
  // A list passes the choice on to each of its results.
  const list = CodeSearch.resultList(h, [RESULT, { ...RESULT, id: 6, repository: 'example/hostile' }], { showRepository: true });
  assert.deepEqual(list.findAll('repository').map((el) => el.textContent), ['example/sample', 'example/hostile']);
});

const MATCHED = {
  ...RESULT, func_name: 'send_mail', start_line: 5, end_line: 6,
  code: 'def send_mail(to):\n    """Mail a message."""\n    smtpClient.send(to)\n',
  highlight: [['k', 'def'], ['', ' '], ['nf', 'send_mail'], ['p', '('], ['n', 'to'], ['p', '):'], ['', '\n    '],
    ['sd', '"""Mail a message."""'], ['', '\n    '], ['n', 'smtpClient'], ['o', '.'], ['n', 'send'], ['p', '('], ['n', 'to'], ['p', ')'], ['', '\n']],
  matched: [
    { token: 'send', share: 0.42, source: 'name' }, { token: 'mail', share: 0.3, source: 'name' },
    { token: 'smtp', share: 0.2, source: 'code' }, { token: 'message', share: 0.004, source: 'doc' },
  ],
};

test('a result of a search by words says which tokens it matched by, which came from its name or doc, and each one\'s share', () => {
  const item = CodeSearch.resultItem(h, MATCHED);
  const line = item.find('matched');
  assert.equal(line.tagName, 'P');
  const tokens = line.findAll('token');
  assert.deepEqual(tokens.map((token) => token.getAttribute('class')),
    ['token token-name', 'token token-name', 'token token-code', 'token token-doc']);
  assert.deepEqual(tokens.map((token) => token.getAttribute('title')), [
    '42% of the match, from its name', '30% of the match, from its name', '20% of the match, from its code',
    'under 1% of the match, from its doc',
  ]);
  // What it shows: the tokens, most first, and where those not from the code came from.
  const shown = (node) => (node.nodeType === 3 ? node.textContent
    : (node.getAttribute('class') === 'visually-hidden' ? '' : node.childNodes.map(shown).join('')));
  assert.equal(shown(line), 'Matched by send (name) · mail (name) · smtp · message (doc)');
  // What a screen reader reads: the share too.
  assert.equal(line.textContent, 'Matched by send (name), 42% of the match · mail (name), 30% of the match'
    + ' · smtp, 20% of the match · message (doc), under 1% of the match');
  // Between the summary and the code, as on the site.
  const order = item.children.map((child) => child.getAttribute('class'));
  assert.ok(order.indexOf('summary') < order.indexOf('matched') && order.indexOf('matched') < order.indexOf('hl'), order.join(', '));
});

test('the code marks the identifiers, or their parts, that are tokens from the name or code, inside their token\'s class', () => {
  const item = CodeSearch.resultItem(h, MATCHED);
  const marks = item.findAllTags('MARK');
  // send_mail's parts (tokens of its name), "Mail" in the docstring (an identifier-like word: marked as the site
  // marks it), smtpClient's part "smtp" and send; never "message", a word of the doc.
  assert.deepEqual(marks.map((mark) => mark.textContent), ['send', 'mail', 'Mail', 'smtp', 'send']);
  const [name, docstring, client] = ['nf', 'sd', 'n'].map((cls) => item.find(cls));
  assert.equal(name.textContent, 'send_mail');
  assert.deepEqual(name.childNodes.map((node) => [node.tagName ?? '#text', node.textContent]),
    [['MARK', 'send'], ['#text', '_'], ['MARK', 'mail']]);
  assert.deepEqual(docstring.childNodes.map((node) => [node.tagName ?? '#text', node.textContent]),
    [['#text', '"""'], ['MARK', 'Mail'], ['#text', ' a message."""']]);
  assert.deepEqual(item.findAll('n').map((span) => span.textContent), ['to', 'smtpClient', 'send', 'to']);
  assert.equal(client.textContent, 'to');
  assert.deepEqual(item.findAll('n')[1].childNodes.map((node) => [node.tagName ?? '#text', node.textContent]),
    [['MARK', 'smtp'], ['#text', 'Client']]);
  // The lines read as the code.
  assert.deepEqual(item.findAll('line').map((line) => line.textContent),
    ['5def send_mail(to):', '6    """Mail a message."""', '7    smtpClient.send(to)']);
});

test('without tokens (search by code, similar code, an older server) there is no line and nothing is marked', () => {
  for (const matched of [[], undefined, null, 'send']) {
    const item = CodeSearch.resultItem(h, { ...MATCHED, matched });
    assert.equal(item.find('matched'), null);
    assert.deepEqual(item.findAllTags('MARK'), []);
    assert.equal(item.find('nf').childNodes.length, 1);
  }
  // Doc words alone are listed and mark nothing.
  const docOnly = CodeSearch.resultItem(h, { ...MATCHED, matched: [{ token: 'mail', share: 1, source: 'doc' }] });
  assert.equal(docOnly.find('matched').find('token').getAttribute('class'), 'token token-doc');
  assert.deepEqual(docOnly.findAllTags('MARK'), []);
});

test('tokens and sources from the server stay text; an unknown source is said, not made a class of its own', () => {
  const evil = '<img src=x onerror=alert(1)>';
  const item = CodeSearch.resultItem(h, { ...MATCHED, matched: [{ token: evil, share: 0.5, source: '" onclick="x' }] });
  const token = item.find('matched').find('token');
  assert.equal(token.getAttribute('class'), 'token token-other');
  assert.equal(token.childNodes[0].nodeType, 3);
  assert.equal(token.childNodes[0].textContent, evil);
  assert.equal(token.find('source').textContent, ' (" onclick="x)');
  assert.equal(token.getAttribute('title'), '50% of the match, from its " onclick="x');
  assert.deepEqual(item.findAllTags('MARK'), []);
  // Code that looks like markup is text even where it is marked.
  const marked = CodeSearch.resultItem(h, { ...MATCHED, highlight: [['s', '"<mark onclick=x>send</mark>"']] });
  const string = marked.find('s');
  assert.deepEqual(string.childNodes.map((node) => [node.tagName ?? '#text', node.textContent]),
    [['#text', '"<mark onclick=x>'], ['MARK', 'send'], ['#text', '</mark>"']]);
  assert.equal(string.findAllTags('MARK')[0].childNodes[0].nodeType, 3);
});

test('"Showing results for" names the corrected query as text, and nothing without one', () => {
  const line = CodeSearch.correctedLine(h, '<img src=x onerror=alert(1)> mail');
  assert.equal(line.tagName, 'P');
  assert.equal(line.getAttribute('class'), 'corrected');
  assert.equal(line.textContent, 'Showing results for <img src=x onerror=alert(1)> mail');
  const [strong] = line.findAllTags('STRONG');
  assert.deepEqual(strong.childNodes.map((node) => node.nodeType), [3]);
  for (const nothing of [null, undefined, '', 42]) assert.equal(CodeSearch.correctedLine(h, nothing), null);
});
