const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const { codeLines } = load('lib/code-lines.js');

test('highlight tokens are split into lines numbered from the start line', () => {
  const lines = codeLines({
    start_line: 12,
    highlight: [['k', 'def'], ['', ' '], ['nf', 'f'], ['p', '():'], ['', '\n    '], ['k', 'return'], ['', ' '], ['mi', '1'], ['', '\n']],
  });
  assert.deepEqual(lines, [
    { number: 12, tokens: [['k', 'def'], ['', ' '], ['nf', 'f'], ['p', '():']] },
    { number: 13, tokens: [['', '    '], ['k', 'return'], ['', ' '], ['mi', '1']] },
  ]);
});

test('a token spanning lines (a docstring) is cut at each line break; blank lines stay', () => {
  const lines = codeLines({ start_line: 1, highlight: [['sd', '"""a\n\nb"""'], ['', '\n']] });
  assert.deepEqual(lines.map((line) => line.tokens), [[['sd', '"""a']], [], [['sd', 'b"""']]]);
});

test('without highlight the plain code is used; unknown classes become plain text', () => {
  assert.deepEqual(codeLines({ start_line: 3, code: 'a\nb' }), [
    { number: 3, tokens: [['', 'a']] }, { number: 4, tokens: [['', 'b']] },
  ]);
  const [line] = codeLines({ start_line: 1, highlight: [['x" onclick="y', 'z'], ['toolongclass', 'w']] });
  assert.deepEqual(line.tokens, [['', 'z'], ['', 'w']]);
});
