// What a result matched by: the server's `matched` read safely, and the marks it puts in the code.
const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const CodeSearch = load('lib/matched.js');

/** Pieces as the server's page writes them, to compare with it: "send<mark>Mail</mark>". */
const written = (pieces) => pieces.map(([text, marked]) => (marked ? `<mark>${text}</mark>` : text)).join('');

test('an identifier is marked as the server\'s _mark_identifier marks it: whole, or its parts', () => {
  // [identifier, tokens, what codesearch/search/highlight.py's _mark_identifier returns for them]
  const SERVER = [
    ['send_mail', ['send_mail'], '<mark>send_mail</mark>'],
    ['_send_mail_', ['send_mail'], '<mark>_send_mail_</mark>'],
    ['$sendMail', ['sendmail'], '<mark>$sendMail</mark>'],
    ['SendMail', ['sendmail'], '<mark>SendMail</mark>'],
    ['__init__', ['init'], '<mark>__init__</mark>'],
    ['sendMail', ['mail'], 'send<mark>Mail</mark>'],
    ['send_mail', ['send', 'mail'], '<mark>send</mark>_<mark>mail</mark>'],
    ['a_b_c', ['b'], 'a_<mark>b</mark>_c'],
    ['HTTPServer', ['http', 'server'], '<mark>HTTP</mark><mark>Server</mark>'],
    ['getURL', ['url'], 'get<mark>URL</mark>'],
    ['ABCDef', ['abc', 'def'], '<mark>ABC</mark><mark>Def</mark>'],
    ['parseXMLFile2', ['xml', '2', 'file'], 'parse<mark>XML</mark><mark>File</mark><mark>2</mark>'],
    ['sha256', ['sha'], '<mark>sha</mark>256'],
    ['sha256', ['256'], 'sha<mark>256</mark>'],
    // A token inside a part is no part: "mail" is not in mailbox, nor "digest" in hexdigest.
    ['mailbox', ['mail'], 'mailbox'],
    ['hexdigest', ['digest'], 'hexdigest'],
    ['x', ['y'], 'x'],
  ];
  for (const [identifier, tokens, expected] of SERVER) {
    const pieces = CodeSearch.markIdentifier(identifier, new Set(tokens));
    assert.equal(written(pieces), expected, `${identifier} with ${tokens}`);
    assert.equal(pieces.map(([text]) => text).join(''), identifier);
  }
});

test('in a piece of code every identifier is checked, and the pieces join back into the code', () => {
  const code = '    digest = hashlib.sha256(path.read_bytes()).hexdigest()  # sha-256 of the file';
  const pieces = CodeSearch.markText(code, new Set(['sha256', 'read', 'hexdigest', 'file']));
  assert.equal(written(pieces), '    digest = hashlib.<mark>sha256</mark>(path.<mark>read</mark>_bytes()).<mark>hexdigest</mark>()'
    + '  # sha-256 of the <mark>file</mark>');
  assert.equal(pieces.map(([text]) => text).join(''), code);
  // Unmarked text is one piece between marks, never an empty one.
  assert.ok(pieces.every(([text], i) => text && !(i && !pieces[i - 1][1] && !pieces[i][1])), JSON.stringify(pieces));
});

test('an identifier starts where no letter, digit, _ or $ is before it (letters of any script, as Python\'s \\w)', () => {
  const marks = new Set(['file', 'name']);
  assert.equal(written(CodeSearch.markText('éfile x_file file2 $file "file" a.file', marks)),
    'éfile x_<mark>file</mark> <mark>file</mark>2 <mark>$file</mark> "<mark>file</mark>" a.<mark>file</mark>');
  assert.equal(written(CodeSearch.markText('fileName = 1', marks)), '<mark>file</mark><mark>Name</mark> = 1');
});

test('without marks the text is one piece, unmarked', () => {
  assert.deepEqual(CodeSearch.markText('send_mail(to)', new Set()), [['send_mail(to)', false]]);
  assert.deepEqual(CodeSearch.markText('send_mail(to)', null), [['send_mail(to)', false]]);
  assert.deepEqual(CodeSearch.markText('', new Set(['x'])), []);
});

test('the tokens a result matched by: at most 5, shares kept within 0..1, entries without a token dropped', () => {
  assert.deepEqual(CodeSearch.matchedTokens({}), []);
  assert.deepEqual(CodeSearch.matchedTokens({ matched: null }), []);
  assert.deepEqual(CodeSearch.matchedTokens({ matched: [] }), []);
  const matched = CodeSearch.matchedTokens({
    matched: [
      { token: 'send', share: 0.42, source: 'name' }, null, { token: '', share: 0.1, source: 'code' },
      { token: 'mail', share: 1.5, source: 'code' }, { token: 'smtp', share: 'x', source: 'doc' },
      { token: 'a', share: -1, source: 'code' }, { token: 'b', share: 0, source: 'code' }, { token: 'c', share: 0, source: 'code' },
    ],
  });
  assert.deepEqual(matched, [
    { token: 'send', share: 0.42, source: 'name' }, { token: 'mail', share: 1, source: 'code' },
    { token: 'smtp', share: null, source: 'doc' }, { token: 'a', share: 0, source: 'code' }, { token: 'b', share: 0, source: 'code' },
  ]);
});

test('the tokens marked in the code are those from the name and the code, not the doc\'s words', () => {
  const marks = CodeSearch.markedTokens({
    matched: [
      { token: 'send', share: 0.4, source: 'name' }, { token: 'SMTP', share: 0.3, source: 'code' },
      { token: 'mail', share: 0.2, source: 'doc' }, { token: 'x', share: 0.1, source: 'elsewhere' },
    ],
  });
  assert.deepEqual([...marks], ['send', 'smtp']);
});

test('a share reads as a percentage', () => {
  assert.equal(CodeSearch.sharePercent(0.423), '42%');
  assert.equal(CodeSearch.sharePercent(1), '100%');
  assert.equal(CodeSearch.sharePercent(0.004), 'under 1%');
  assert.equal(CodeSearch.sharePercent(0), 'under 1%');
});
