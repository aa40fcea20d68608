// Why a result matched a search by words: the tokens the server names in its `matched` (most first), read
// safely, and where they are in the code, marked by the same rule as the site's page (highlight.py).
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  // Where a token came from: the unit's own name, its code, or its doc. Doc words are listed, never marked.
  const SOURCES = ['name', 'code', 'doc'];
  const MARKED_SOURCES = ['name', 'code'];
  // At most 5 from the server; a longer list from elsewhere is cut there too.
  const MOST = 5;

  // An identifier, as the server's _IDENTIFIER finds it (Python's \w is Unicode letters, digits and _),
  // and its parts split on snake_case, camelCase and digits (the server's _PART).
  const IDENTIFIER = /(?<![\p{L}\p{N}_$])[A-Za-z_$][\p{L}\p{N}_$]*/gu;
  const PART = /[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+/g;

  /** The result's `matched` as [{token, share, source}], entries without a token dropped; [] if none. */
  function matchedTokens(result) {
    const matched = Array.isArray(result?.matched) ? result.matched : [];
    return matched
      .filter((m) => m && typeof m.token === 'string' && m.token !== '')
      .slice(0, MOST)
      .map((m) => {
        const share = Number(m.share);
        return { token: m.token, share: Number.isFinite(share) ? Math.min(Math.max(share, 0), 1) : null, source: String(m.source ?? '') };
      });
  }

  /** The lower-case tokens to mark in a result's code: those from its name or code. */
  function markedTokens(result) {
    return new Set(matchedTokens(result)
      .filter((m) => MARKED_SOURCES.includes(m.source))
      .map((m) => m.token.toLowerCase()));
  }

  /**
   * One identifier as [[text, marked], ...]: whole when its lower-cased form without leading and trailing
   * _ and $ is a token, else each of its parts that is one (compared lower-cased), as _mark_identifier does.
   */
  function markIdentifier(identifier, marks) {
    if (marks.has(identifier.replace(/^[_$]+|[_$]+$/g, '').toLowerCase())) return [[identifier, true]];
    const pieces = [];
    let at = 0;
    for (const { 0: part, index } of identifier.matchAll(PART)) {
      if (!marks.has(part.toLowerCase())) continue;
      if (index > at) pieces.push([identifier.slice(at, index), false]);
      pieces.push([part, true]);
      at = index + part.length;
    }
    if (at < identifier.length) pieces.push([identifier.slice(at), false]);
    return pieces;
  }

  /**
   * A piece of code's text as [[text, marked], ...] (unmarked runs joined; never an empty text) with the
   * identifiers, or parts of them, that are `marks` marked; the texts join back into `text`.
   */
  function markText(text, marks) {
    const source = String(text);
    if (!marks || marks.size === 0) return source ? [[source, false]] : [];
    const pieces = [];
    const add = (piece, marked) => {
      if (!piece) return;
      const last = pieces[pieces.length - 1];
      if (last && !last[1] && !marked) last[0] += piece;
      else pieces.push([piece, marked]);
    };
    let at = 0;
    for (const { 0: identifier, index } of source.matchAll(IDENTIFIER)) {
      add(source.slice(at, index), false);
      for (const [piece, marked] of markIdentifier(identifier, marks)) add(piece, marked);
      at = index + identifier.length;
    }
    add(source.slice(at), false);
    return pieces;
  }

  /** A share of the match in words: "42%", or "under 1%". */
  function sharePercent(share) {
    const percent = Math.round(share * 100);
    return percent < 1 ? 'under 1%' : `${percent}%`;
  }

  CodeSearch.MATCH_SOURCES = SOURCES;
  CodeSearch.matchedTokens = matchedTokens;
  CodeSearch.markedTokens = markedTokens;
  CodeSearch.markIdentifier = markIdentifier;
  CodeSearch.markText = markText;
  CodeSearch.sharePercent = sharePercent;
})();
