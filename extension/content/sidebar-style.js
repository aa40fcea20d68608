// The sidebar's stylesheet, set as a <style> inside its shadow root: GitHub's CSS can't reach in, ours can't leak out.
(() => {
  'use strict';
  const CodeSearch = (globalThis.CodeSearch ??= {});

  CodeSearch.SIDEBAR_CSS = `
:host { all: initial; }
[hidden] { display: none !important; }
/* Read by screen readers, not shown. */
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
* { box-sizing: border-box; }
.toggle, .panel {
  --fg: #1f2328; --muted: #59636e; --accent: #0b63ce; --line: #d1d9e0; --bg-code: #f6f8fa;
  position: fixed; z-index: 2147483000;
  font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  color: var(--fg);
}
button { font: inherit; color: inherit; }
:focus-visible { outline: 2px solid #f0a500; outline-offset: 1px; }

.toggle {
  top: 50%; right: 0; transform: translateY(-50%);
  width: 30px; height: 44px; padding: 0; border: 0; border-radius: 8px 0 0 8px;
  background: var(--accent); cursor: pointer; box-shadow: 0 1px 6px rgba(31, 35, 40, .3); opacity: .85;
}
.toggle:hover, .toggle:focus-visible { opacity: 1; width: 36px; }
/* A magnifying glass drawn in CSS: the lens and its handle. */
.toggle::before { content: ""; position: absolute; left: 7px; top: 13px; width: 11px; height: 11px;
  border: 2.5px solid #fff; border-radius: 50%; }
.toggle::after { content: ""; position: absolute; left: 18px; top: 25px; width: 7px; height: 3px;
  background: #fff; border-radius: 2px; transform: rotate(45deg); transform-origin: left center; }
.toggle.off { background: var(--muted); }

.panel {
  top: 0; right: 0; bottom: 0; width: min(460px, 100vw);
  display: flex; flex-direction: column; background: #fff;
  border-left: 1px solid var(--line); box-shadow: -8px 0 24px rgba(31, 35, 40, .15);
}
.panel > header {
  display: flex; align-items: baseline; gap: 8px; padding: 10px 14px; border-bottom: 1px solid var(--line);
}
.brand { font-weight: 700; }
.repo { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.close { margin-left: auto; border: 0; background: none; font-size: 22px; line-height: 1; cursor: pointer;
  color: var(--muted); padding: 0 4px; }
.body { flex: 1; overflow-y: auto; padding: 10px 14px 16px; }
.panel > footer { display: flex; gap: 8px; justify-content: space-between; padding: 6px 14px;
  border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
kbd { font: 11px ui-monospace, monospace; border: 1px solid var(--line); border-bottom-width: 2px;
  border-radius: 4px; padding: 0 4px; background: var(--bg-code); }

.meta, .note, .empty, .status { color: var(--muted); margin: 4px 0 10px; }
.meta code { font-size: 12px; }
.error { color: #b42318; background: #fef3f2; border: 1px solid #fecdca; padding: 6px 10px; border-radius: 6px; }
div.error > p { margin: 0 0 4px; }
div.error > p:last-child { margin: 0; }
button.link { border: 0; background: none; padding: 0; color: var(--accent); cursor: pointer; font-size: 13px; }
button.link:hover { text-decoration: underline; }
.primary { padding: 5px 12px; border: 1px solid var(--accent); border-radius: 6px; background: var(--accent);
  color: #fff; cursor: pointer; font-weight: 600; }
.primary:disabled { opacity: .6; cursor: default; }

.tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--line); margin-bottom: 10px; }
.tab { border: 0; border-bottom: 2px solid transparent; background: none; padding: 6px 8px; cursor: pointer;
  color: var(--muted); }
.tab[aria-selected="true"] { border-bottom-color: #fd8c73; color: var(--fg); font-weight: 600; }
form { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
input[type=search], textarea, select { font: inherit; color: inherit; border: 1px solid var(--line);
  border-radius: 6px; padding: 5px 8px; background: #fff; }
input[type=search] { flex: 1 1 12rem; min-width: 0; }
textarea { width: 100%; min-height: 9em; resize: vertical; white-space: pre; overflow: auto;
  font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
label.field { color: var(--muted); font-size: 13px; display: flex; gap: 6px; align-items: center; }
.code-form .primary { margin-left: auto; }
/* Above the query field, on a line of its own: this repository or every indexed one. */
.scope { flex: 1 0 100%; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; }
.scope-option { display: flex; gap: 5px; align-items: center; cursor: pointer; }
.scope-option input { margin: 0; accent-color: var(--accent); }
/* On a repository the server hasn't indexed, the search across every indexed one, under the offer to index it. */
.search-everywhere { margin-top: 16px; padding-top: 10px; border-top: 1px solid var(--line); }
.everywhere-title { font-size: 14px; font-weight: 600; margin: 0 0 8px; }
/* Under the query field, on a line of its own: how to narrow a search to folders or files. */
.hint { flex: 1 0 100%; margin: 0; color: var(--muted); font-size: 12px; }
.hint code, .status code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--bg-code);
  border-radius: 4px; padding: 0 3px; }

.results-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; margin: 12px 0 0; }
/* "Showing results for …", on a line of its own above the count. */
.corrected { flex: 1 0 100%; margin: 0; overflow-wrap: anywhere; }
.results { list-style: none; padding: 0; margin: 0; }
.result { margin: 10px 0; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.result-head { display: flex; gap: 8px; align-items: baseline; padding: 6px 10px 0; }
.rating { flex: none; font-weight: 700; color: #fff; background: #1a7f37; border-radius: 10px; padding: 0 7px;
  font-size: 12px; }
.func { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600; word-break: break-all; }
/* The kind, as on the site: a function's muted, a class's and a block's plain to see. */
.kind { flex: none; font-size: 12px; line-height: 18px; border: 1px solid var(--line); border-radius: 999px; padding: 0 7px;
  color: var(--muted); background: var(--bg-code); }
.kind-class, .kind-block { color: var(--fg); font-weight: 600; }
.kind-class { border-color: #0b63ce; }
.kind-block { border-color: #9a6700; border-style: dashed; }
/* A result from any repository names it, linked to the repository at the indexed commit. */
.repository { display: block; padding: 0 10px; font: 600 12px ui-monospace, SFMono-Regular, Menlo, monospace;
  color: var(--fg); word-break: break-all; }
a.repository { text-decoration: none; }
a.repository:hover { text-decoration: underline; }
.location { display: block; padding: 0 10px 6px; font: 12px ui-monospace, monospace; color: var(--accent);
  word-break: break-all; }
.summary { margin: 0; padding: 0 10px 6px; color: var(--muted); font-size: 13px; }
/* "Matched by send (name) · mail": the tokens as code, a name's in bold; the same tokens marked in the code. */
.matched { margin: 0; padding: 0 10px 6px; color: var(--muted); font-size: 12px; }
.matched .token { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--fg); cursor: help; }
.matched .token-name { font-weight: 600; }
.matched .source { font: 11px -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  font-weight: 400; color: var(--muted); }
.hl mark { background: #fff1a8; color: inherit; border-radius: 2px; }
pre.hl { margin: 0; padding: 6px 0; max-height: 18em; overflow: auto; background: var(--bg-code);
  border-top: 1px solid var(--line); font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
.line { display: block; white-space: pre; padding-right: 10px; }
.ln { display: inline-block; width: 3.2em; padding-right: 10px; text-align: right; color: #8c959f;
  user-select: none; }
.result-foot { padding: 4px 10px; border-top: 1px solid var(--line); }

.job progress { width: 100%; height: 8px; appearance: none; border: 0; border-radius: 4px; overflow: hidden;
  background: #eaeef2; color: var(--accent); }
.job progress::-webkit-progress-bar { background: #eaeef2; }
.job progress::-webkit-progress-value { background: var(--accent); }
.job progress::-moz-progress-bar { background: var(--accent); }
.job-stage { margin: 8px 0 4px; font-weight: 600; }
.job-message { color: var(--muted); margin: 4px 0; white-space: pre-wrap; }
.job-failed .job-stage { color: #b42318; }

/* Pygments' "friendly" token colours, as in the site's pygments.css */
.hl .c { color: #60A0B0; font-style: italic }
.hl .err { border: 1px solid #F00 }
.hl .k { color: #007020; font-weight: bold }
.hl .o { color: #666 }
.hl .ch { color: #60A0B0; font-style: italic }
.hl .cm { color: #60A0B0; font-style: italic }
.hl .cp { color: #007020 }
.hl .cpf { color: #60A0B0; font-style: italic }
.hl .c1 { color: #60A0B0; font-style: italic }
.hl .cs { color: #60A0B0; background-color: #FFF0F0 }
.hl .gd { color: #A00000 }
.hl .ge { font-style: italic }
.hl .ges { font-weight: bold; font-style: italic }
.hl .gr { color: #F00 }
.hl .gh { color: #000080; font-weight: bold }
.hl .gi { color: #00A000 }
.hl .go { color: #888 }
.hl .gp { color: #C65D09; font-weight: bold }
.hl .gs { font-weight: bold }
.hl .gu { color: #800080; font-weight: bold }
.hl .gt { color: #04D }
.hl .kc { color: #007020; font-weight: bold }
.hl .kd { color: #007020; font-weight: bold }
.hl .kn { color: #007020; font-weight: bold }
.hl .kp { color: #007020 }
.hl .kr { color: #007020; font-weight: bold }
.hl .kt { color: #902000 }
.hl .m { color: #40A070 }
.hl .s { color: #4070A0 }
.hl .na { color: #4070A0 }
.hl .nb { color: #007020 }
.hl .nc { color: #0E84B5; font-weight: bold }
.hl .no { color: #60ADD5 }
.hl .nd { color: #555; font-weight: bold }
.hl .ni { color: #D55537; font-weight: bold }
.hl .ne { color: #007020 }
.hl .nf { color: #06287E }
.hl .nl { color: #002070; font-weight: bold }
.hl .nn { color: #0E84B5; font-weight: bold }
.hl .nt { color: #062873; font-weight: bold }
.hl .nv { color: #BB60D5 }
.hl .ow { color: #007020; font-weight: bold }
.hl .w { color: #BBB }
.hl .mb { color: #40A070 }
.hl .mf { color: #40A070 }
.hl .mh { color: #40A070 }
.hl .mi { color: #40A070 }
.hl .mo { color: #40A070 }
.hl .sa { color: #4070A0 }
.hl .sb { color: #4070A0 }
.hl .sc { color: #4070A0 }
.hl .dl { color: #4070A0 }
.hl .sd { color: #4070A0; font-style: italic }
.hl .s2 { color: #4070A0 }
.hl .se { color: #4070A0; font-weight: bold }
.hl .sh { color: #4070A0 }
.hl .si { color: #70A0D0; font-style: italic }
.hl .sx { color: #C65D09 }
.hl .sr { color: #235388 }
.hl .s1 { color: #4070A0 }
.hl .ss { color: #517918 }
.hl .bp { color: #007020 }
.hl .fm { color: #06287E }
.hl .vc { color: #BB60D5 }
.hl .vg { color: #BB60D5 }
.hl .vi { color: #BB60D5 }
.hl .vm { color: #BB60D5 }
.hl .il { color: #40A070 }
`;
})();
