// A result's highlight tokens ([[pygments class, text], ...]) regrouped into numbered lines.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  // Pygments' short classes ("k", "nf", "s2"); anything else from the server is shown as plain text.
  const TOKEN_CLASS = /^[a-z][a-z0-9]{0,3}$/;

  /** [{number, tokens: [[className, text], ...]}] for a result; falls back on its plain code without highlight. */
  function codeLines(result) {
    const tokens = Array.isArray(result.highlight) && result.highlight.length
      ? result.highlight
      : [['', String(result.code ?? '')]];
    const lines = [[]];
    for (const [className, text] of tokens) {
      const safeClass = TOKEN_CLASS.test(className) ? className : '';
      String(text).split('\n').forEach((piece, i) => {
        if (i > 0) lines.push([]);
        if (piece) lines[lines.length - 1].push([safeClass, piece]);
      });
    }
    // Highlighters end the code with a newline, which would show as an empty last line.
    if (lines.length > 1 && lines[lines.length - 1].length === 0) lines.pop();
    const first = Number.isInteger(result.start_line) ? result.start_line : 1;
    return lines.map((lineTokens, i) => ({ number: first + i, tokens: lineTokens }));
  }

  CodeSearch.codeLines = codeLines;
})();
