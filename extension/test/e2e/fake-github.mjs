// A local HTTPS stand-in for github.com: static imitations of a repository's blob page, a pull request's
// diff and an unindexed repository, built from the fixture repository, served with a GitHub-like CSP.
// Chromium maps github.com to it with --host-resolver-rules; Firefox has no such switch and reaches it
// through a proxy that tunnels github.com:443 here and refuses every other host, so the browser stays offline.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SAMPLE = path.join(REPO_ROOT, 'tests/fixtures/sample_repo');

// Like GitHub's: inline styles allowed, no page script, and the page itself may not call our server.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'self'";

// Page styles as blunt as GitHub's global ones can be; the sidebar's shadow root must keep them out.
const PAGE_CSS = `
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
  button { border: 3px solid #d1242f; background: #ffebe9; font-family: serif; }
  pre, code { font-family: serif; }
  li { list-style: square; }
  .rating { background: #8250df; color: #fff; border-radius: 12px; padding: 0 8px; font-size: 12px; }
  .AppHeader { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 12px 24px; display: flex; gap: 16px; align-items: center; }
  .AppHeader .logo { font-weight: 700; font-size: 20px; }
  .repo-title { font-size: 16px; }
  .repo-title a { color: #0969da; text-decoration: none; }
  .UnderlineNav { display: flex; gap: 20px; padding: 0 24px; border-bottom: 1px solid #d1d9e0; background: #f6f8fa; }
  .UnderlineNav span { padding: 10px 0; }
  .UnderlineNav .selected { border-bottom: 2px solid #fd8c73; font-weight: 600; }
  main { max-width: 1280px; margin: 0 auto; padding: 16px 24px; }
  .Box { border: 1px solid #d1d9e0; border-radius: 6px; overflow: hidden; margin-top: 12px; }
  .Box-header { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px; font-size: 12px; color: #59636e; }
  .code-view { position: relative; font: 12px/20px ui-monospace, SFMono-Regular, Menlo, monospace; }
  .code-lines { padding: 8px 0; }
  .code-line { display: flex; white-space: pre; }
  .code-line .num { width: 56px; padding-right: 16px; text-align: right; color: #59636e; user-select: none; }
  #read-only-cursor-text-area { position: absolute; top: 8px; left: 56px; right: 0; bottom: 8px; padding: 0;
    margin: 0; border: 0; resize: none; overflow: hidden; background: transparent; color: transparent;
    caret-color: #1f2328; font: inherit; white-space: pre; outline: none; }
  .file { border: 1px solid #d1d9e0; border-radius: 6px; margin-top: 16px; overflow: hidden; }
  .file-header { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px; font: 12px ui-monospace, monospace; }
  .diff-table { border-collapse: collapse; width: 100%; font: 12px/20px ui-monospace, SFMono-Regular, Menlo, monospace; }
  .diff-table .blob-num { width: 1%; min-width: 50px; padding: 0 10px; text-align: right; color: #59636e; user-select: none; }
  .diff-table .blob-num::before { content: attr(data-line-number); }
  .blob-code-addition { background: #dafbe1; }
  .blob-code-inner { white-space: pre; }
  .blob-code-inner::before { content: attr(data-code-marker); padding-right: 8px; user-select: none; }
`;

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function layout(owner, name, title, body, tab = 'Code') {
  const tabs = ['Code', 'Issues', 'Pull requests', 'Actions'].map((t) =>
    `<span class="${t === tab ? 'selected' : ''}">${t}</span>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>${PAGE_CSS}</style></head><body>
<header class="AppHeader"><span class="logo">GitHub</span>
<span class="repo-title"><a href="/${owner}">${owner}</a> / <strong><a href="/${owner}/${name}">${name}</a></strong></span>
<span class="rating" title="a page element with a class name the sidebar also uses">★ 42</span></header>
<nav class="UnderlineNav">${tabs}</nav>
<main>${body}</main></body></html>`;
}

/** GitHub's code view: numbered lines, with a transparent read-only textarea over them that takes the selection. */
function blobPage(ref, file) {
  const source = readFileSync(path.join(SAMPLE, file), 'utf8');
  const lines = source.replace(/\n$/, '').split('\n');
  const rows = lines.map((line, i) =>
    `<div class="code-line" id="LC${i + 1}"><span class="num">${i + 1}</span><span>${escape(line)}</span></div>`).join('');
  return layout('example', 'sample', `sample/${file} at ${ref} · example/sample`, `
<div class="file-navigation"><strong>sample</strong> / ${escape(file)}</div>
<div class="Box"><div class="Box-header">${lines.length} lines · Python</div>
<div class="code-view"><div class="code-lines" aria-hidden="true">${rows}</div>
<textarea id="read-only-cursor-text-area" readonly spellcheck="false" aria-label="file content">${escape(source)}</textarea>
</div></div>`);
}

/** A pull request's "Files changed" tab in the classic diff markup: .file > .file-header[data-path] + table. */
function pullPage(file) {
  const lines = readFileSync(path.join(SAMPLE, file), 'utf8').replace(/\n$/, '').split('\n');
  const rows = lines.map((line, i) => `<tr><td class="blob-num" data-line-number="${i + 1}"></td>
<td class="blob-code blob-code-addition"><span class="blob-code-inner" data-code-marker="+">${escape(line)}</span></td></tr>`).join('');
  return layout('example', 'sample', 'Add a mailer by someone · Pull Request #1 · example/sample', `
<h1>Add a mailer <span style="color:#59636e">#1</span></h1>
<div class="file" data-details-container-group="file">
<div class="file-header" data-path="${escape(file)}" data-file-type=".py"><span title="${escape(file)}">${escape(file)}</span></div>
<table class="diff-table">${rows}</table></div>`, 'Pull requests');
}

function repositoryHome(owner, name) {
  return layout(owner, name, `${owner}/${name}`, `<div class="Box"><div class="Box-header">README.md</div>
<p style="padding: 0 16px">A repository this codesearch server has never indexed.</p></div>`);
}

const ROUTES = {
  '/example/sample/blob/0123abc/sample/storage.py': () => blobPage('0123abc', 'sample/storage.py'),
  '/example/sample/pull/1/files': () => pullPage('sample/mailer.py'),
  '/example/unknown': () => repositoryHome('example', 'unknown'),
};

/** A throwaway self-signed certificate for github.com (the browser is told to ignore certificate errors). */
function certificate(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=github.com', '-addext', 'subjectAltName=DNS:github.com'], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/** An HTTP proxy that only opens CONNECT tunnels to github.com:443, which it sends to `port`. */
function tunnelTo(port) {
  const proxy = http.createServer((request, response) => {
    response.statusCode = 403;
    response.end();
  });
  proxy.on('connect', (request, client, head) => {
    if (request.url !== 'github.com:443') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return proxy;
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const close = (server) => new Promise((resolve) => {
  server.close(resolve);
  server.closeAllConnections?.(); // browsers keep connections alive; don't wait for them to give up
});

/** Starts the server and its proxy on free ports; resolves to {port, proxyPort, close}. */
export async function startFakeGitHub(tmpDir) {
  const server = https.createServer(certificate(tmpDir), (request, response) => {
    const route = ROUTES[new URL(request.url, 'https://github.com').pathname];
    response.setHeader('Content-Security-Policy', CSP);
    response.setHeader('Content-Type', route ? 'text/html; charset=utf-8' : 'text/plain');
    response.statusCode = route ? 200 : 404;
    response.end(route ? route() : 'not found');
  });
  const port = await listen(server);
  const proxy = tunnelTo(port);
  const proxyPort = await listen(proxy);
  return { port, proxyPort, close: () => Promise.all([close(proxy), close(server)]) };
}
