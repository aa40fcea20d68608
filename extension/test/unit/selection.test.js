const test = require('node:test');
const assert = require('node:assert/strict');
const { load } = require('./load');

const { selectedText, selectionFilePath } = load('lib/selection.js');

/** A window whose selection is anchored in `anchor`, optionally with a focused text field. */
function fakeWindow({ text = '', anchor = null, activeElement = null } = {}) {
  return { document: { activeElement }, getSelection: () => ({ toString: () => text, anchorNode: anchor }) };
}

/** An element in a tree of plain objects: closest() and querySelector() by a predicate on each node. */
function node({ classes = [], attributes = {}, children = [] } = {}) {
  const self = {
    nodeType: 1, parentElement: null, children, classes, attributes,
    getAttribute: (name) => attributes[name] ?? null,
    matches: (selector) => selector.split(',').some((part) => {
      const s = part.trim();
      return s.startsWith('.') ? classes.includes(s.slice(1)) : Object.hasOwn(attributes, s.slice(1, -1));
    }),
    closest: (selector) => (self.matches(selector) ? self : self.parentElement?.closest(selector) ?? null),
    querySelector: (selector) => {
      for (const child of children) {
        const found = child.matches(selector) ? child : child.querySelector(selector);
        if (found) return found;
      }
      return null;
    },
  };
  for (const child of children) child.parentElement = self;
  return self;
}

test("GitHub's code view selection lives in a textarea; elsewhere the document selection is used", () => {
  const textarea = { tagName: 'TEXTAREA', value: 'x = 1\ndef f():\n    pass\n', selectionStart: 6, selectionEnd: 23 };
  assert.equal(selectedText(fakeWindow({ text: '', activeElement: textarea })), 'def f():\n    pass');
  assert.equal(selectedText(fakeWindow({ text: 'a\nb', activeElement: { tagName: 'BODY' } })), 'a\nb');
  const empty = { tagName: 'TEXTAREA', value: 'abc', selectionStart: 1, selectionEnd: 1 };
  assert.equal(selectedText(fakeWindow({ text: 'page text', activeElement: empty })), 'page text');
});

test('on a blob page the file is the page’s own', () => {
  assert.equal(selectionFilePath(fakeWindow(), { fileName: 'mailer.py' }), 'mailer.py');
});

test('in a pull-request diff the file is the one in the diff header around the selection', () => {
  const line = node({ classes: ['blob-code'] });
  const header = node({ classes: ['file-header'], attributes: { 'data-path': 'src/Shapes.java' } });
  node({ classes: ['file'], children: [header, node({ children: [line] })] });
  const textNode = { nodeType: 3, parentElement: line };
  assert.equal(selectionFilePath(fakeWindow({ anchor: textNode }), { fileName: null }), 'src/Shapes.java');
  assert.equal(selectionFilePath(fakeWindow({ anchor: node() }), { fileName: null }), null);
  assert.equal(selectionFilePath(fakeWindow(), { fileName: null }), null);
});
