// Loads extension scripts the way the browser does (classic scripts adding to globalThis.CodeSearch).
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

function load(...files) {
  for (const file of files) require(path.join(ROOT, file));
  return globalThis.CodeSearch;
}

module.exports = { ROOT, load };
