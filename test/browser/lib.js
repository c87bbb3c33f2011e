// Helpers of the console's browser tests: Debian's chromium through
// playwright-core (never a downloaded browser), the server and parley-chat
// as child processes on loopback, a webhook sink, a tiny check counter.
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function tmpdir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `parley-${name}-`));
}

// One browser per agent, each with a fresh profile (--user-data-dir, which
// Playwright takes as the persistent context's directory): two agents are
// two people on two machines, with their own cookies.
async function browser(name, dirs) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make deps`);
  const dir = tmpdir(`chromium-${name}`);
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    viewport: { width: 1440, height: 900 }, timezoneId: 'UTC', locale: 'en-GB',
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
  page.on('dialog', (d) => { page.problems.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
  // The 401s of the signed-out page and of the wrong-password login are
  // expected answers, which Chromium logs as failed resources.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) page.problems.push('console: ' + m.text());
  });
  return { ctx, page };
}

function run(bin, args, input) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
    p.stdin.end(input || '');
  });
}

async function addAgent(server, db, name, role, password, display) {
  const args = ['--db', db, '--add-agent', name, '--role', role, '--password-stdin'];
  if (display) args.push('--display-name', display);
  const r = await run(server, args, password + '\n');
  if (r.code !== 0) throw new Error(`--add-agent ${name}: exit ${r.code}: ${r.err}`);
  return r;
}

// The server on a free loopback port (--port 0 and --ready-file).
async function startServer(bin, dir, extra) {
  const ready = path.join(dir, 'ready');
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const args = ['--port', '0', '--host', '127.0.0.1', '--ready-file', ready, '--db', path.join(dir, 'support.db'),
    '--insecure-identities', ...(extra || [])];
  const proc = spawn(bin, args, { stdio: ['ignore', log, log] });
  const t0 = Date.now();
  while (!fs.existsSync(ready) || !fs.readFileSync(ready, 'utf8').endsWith('\n')) {
    if (proc.exitCode !== null) throw new Error(`parley-server exited (${proc.exitCode}): ` + fs.readFileSync(path.join(dir, 'server.log'), 'utf8'));
    if (Date.now() - t0 > 15000) throw new Error('parley-server did not get ready');
    await sleep(50);
  }
  const port = Number(fs.readFileSync(ready, 'utf8').trim());
  return {
    proc, port, url: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`,
    log: () => fs.readFileSync(path.join(dir, 'server.log'), 'utf8'),
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) { resolve(proc.exitCode); return; }
      proc.on('exit', (code) => resolve(code));
      proc.kill('SIGTERM');
    }),
  };
}

// parley-chat as the user, its --json events collected as they come.
function chat(bin, server, args) {
  const proc = spawn(bin, ['--url', server.ws, '--insecure', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events = [];
  let buf = '';
  let err = '';
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try { events.push(JSON.parse(line)); } catch (e) { events.push({ raw: line }); }
    }
  });
  proc.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => proc.on('close', (code) => resolve(code)));
  return { proc, events, done, stderr: () => err, kill: () => { if (proc.exitCode === null) proc.kill('SIGTERM'); } };
}

// A webhook receiver on loopback: every POST's headers and JSON body.
function webhookSink() {
  const got = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      let json = null;
      try { json = JSON.parse(body); } catch (e) { json = null; }
      got.push({ method: req.method, url: req.url, headers: req.headers, body, json });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${srv.address().port}/hook`, got, close: () => new Promise((r) => srv.close(r)),
  })));
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(what, fn, timeoutMs = 10000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for ' + what);
    await sleep(50);
  }
}

// What fn() gives once it equals want, or its last value after ms: a check on a live page
// waits for the page to settle, and its failure shows what the page had.
async function soon(fn, want, ms = 10000) {
  let v;
  await until(String(want), async () => (v = await fn()) === want, ms).catch(() => {});
  return v;
}

// Whether the text of sel matches re within ms: the page may fill in or update a line
// after the line first appears, so one read right away can be too early.
function showsSoon(page, sel, re, ms = 10000) {
  return until(sel, async () => re.test(await page.textContent(sel)), ms).catch(() => false);
}

// Checks counted for the closing "N passed, N failed" line.
class Checks {
  constructor() { this.passed = 0; this.failed = 0; }
  ok(cond, what) {
    if (cond) { this.passed++; console.log('ok   ' + what); } else { this.failed++; console.log('FAIL ' + what); }
    return !!cond;
  }
  eq(got, want, what) {
    return this.ok(got === want, `${what} (got ${JSON.stringify(got)}, want ${JSON.stringify(want)})`);
  }
  finish() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    return this.failed ? 1 : 0;
  }
}

module.exports = { browser, addAgent, startServer, chat, webhookSink, sleep, until, soon, showsSoon, tmpdir, run, Checks, CHROMIUM_ARGS };
