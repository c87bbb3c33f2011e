#!/usr/bin/env node
// The agent console end to end in real headless Chromium: two agents (two
// browsers with their own profiles) and users driven by parley-chat
// against parley-server on loopback. See test/browser/README.md.
'use strict';
const fs = require('fs');
const path = require('path');
const http = require('http');
const L = require('./lib.js');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['server', 'chat', 'out']) {
  if (!args[k]) { console.error('usage: console.test.js --server BIN --chat BIN --out DIR'); process.exit(2); }
}
const SHOTS = path.join(args.out, 'screenshots');
const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_ID = '<img\\src=x\\onerror=alert(1)>';
const c = new L.Checks();

function request(url, method, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const req = http.request(url, { method, headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function login(page, base, name, password) {
  await page.goto(base + '/');
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('.channel-up');
}

const row = (page, user) => page.locator('.conv-row', { has: page.locator('.row-user', { hasText: user }) });

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dir = L.tmpdir('console-test');
  const dirs = [dir];
  const sink = await L.webhookSink();
  const sla = path.join(dir, 'sla.json');
  fs.writeFileSync(sla, JSON.stringify({ policies: {
    urgent: { first_response_s: 4, next_response_s: 60, warn_before_s: 2 },
    normal: { first_response_s: 600, next_response_s: 600 } } }));
  const db = path.join(dir, 'support.db');
  await L.addAgent(args.server, db, 'dana', 'admin', 'dana-password-1', 'Dana S.');
  await L.addAgent(args.server, db, 'sam', 'agent', 'sam-password-22', 'Sam Okafor');
  const server = await L.startServer(args.server, dir, ['--sla', sla, '--webhook', sink.url, '--agent-token', 'test-admin-token']);
  const users = [];
  const browsers = [];
  try {
    // ---- sessions over plain HTTP: wrong passwords, cookies, CSRF ----
    const bad = await request(server.url + '/api/login', 'POST', { name: 'dana', password: 'nope-nope' });
    c.eq(bad.status, 401, 'a wrong password answers 401');
    c.ok(!bad.headers['set-cookie'], 'a wrong password sets no cookie');
    const good = await request(server.url + '/api/login', 'POST', { name: 'sam', password: 'sam-password-22' });
    const cookie = (good.headers['set-cookie'] || [])[0] || '';
    c.eq(good.status, 200, 'the right password answers 200');
    c.ok(/HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie) && /Path=\//.test(cookie), 'the session cookie is HttpOnly, SameSite=Strict');
    const sess = cookie.split(';')[0];
    const noCsrf = await request(server.url + '/api/me/presence', 'POST', { presence: 'busy' }, { Cookie: sess });
    c.eq(noCsrf.status, 403, 'a state change without the CSRF header is refused');
    const withCsrf = await request(server.url + '/api/me/presence', 'POST', { presence: 'online' }, { Cookie: sess, 'X-Parley-CSRF': good.json.csrf });
    c.eq(withCsrf.status, 200, 'with the CSRF header it goes through');
    const token = await request(server.url + '/api/me', 'GET', undefined, { Authorization: 'Bearer test-admin-token' });
    c.ok(token.status === 200 && token.json.via === 'token', 'the --agent-token still works, as an admin token');

    // ---- two agents in two browsers ----
    const A = await L.browser('dana', dirs);
    const B = await L.browser('sam', dirs);
    browsers.push(A, B);
    await A.page.goto(server.url + '/');
    await A.page.fill('#login-name', 'dana');
    await A.page.fill('#login-password', 'wrong-password');
    const [resp] = await Promise.all([
      A.page.waitForResponse((r) => r.url().endsWith('/api/login')),
      A.page.click('#login-form button[type=submit]'),
    ]);
    c.eq(resp.status(), 401, 'the login form gets 401 for a wrong password');
    c.ok(await L.showsSoon(A.page, '#login-error', /Wrong name or password/), 'and says so');
    await login(A.page, server.url, 'dana', 'dana-password-1');
    await login(B.page, server.url, 'sam', 'sam-password-22');
    c.ok(true, 'both agents are signed in with a live channel');
    c.ok((await A.page.textContent('#conversation')).includes('Nobody is waiting'), 'with nothing open, the middle says where the work stands');

    // ---- a user asks for a human: the conversation appears live ----
    const user = L.chat(args.chat, server, ['--user', 'player-42', '--screen', 'shop/gems', '--attr', 'plan=vip',
      '--attr', 'level=7', '--breadcrumb', 'opened shop', '--event', 'purchase_failed={"sku":"gems_500","code":402}',
      '--subject', 'Gems not delivered', '--send', 'My gems never arrived',
      '--choose', 'Talk to a human', '--choose', '500 gems', '--answer', 'q1=5', '--wait-surveys', '1', '--timeout', '50']);
    users.push(user);
    await row(A.page, 'player-42').waitFor({ timeout: 10000 });
    c.ok(true, 'the new conversation appears in the queue without a reload');
    await A.page.waitForSelector('.empty-card button[data-action="next"]');
    c.ok((await A.page.textContent('.empty-card')).includes('1 conversation waiting'), 'and in the count of the waiting ones');
    // Console B gets the same live update on its own channel, maybe a moment later.
    await row(B.page, 'player-42').waitFor({ timeout: 10000 });
    c.ok(await row(B.page, 'player-42').count() === 1, 'in both consoles');

    // ---- a hostile user, then an SLA breach on their conversation ----
    const evilFile = path.join(dir, `${HOSTILE}.txt`);
    fs.writeFileSync(evilFile, 'the log a player attached\n');
    const evil = L.chat(args.chat, server, ['--user', HOSTILE_ID, '--attach', evilFile, '--screen', '<b>screen</b>', '--attr', `note=${HOSTILE}`,
      '--attr', '<i>k</i>=<svg/onload=alert(2)>', '--breadcrumb', '<iframe src=javascript:alert(3)>',
      '--event', `hack={"html":"<script>alert(4)</script>","x":"${'\\"'}><img src=y onerror=alert(5)>"}`,
      '--subject', HOSTILE, '--send', HOSTILE, '--choose', 'Talk to a human', '--timeout', '40']);
    users.push(evil);
    const evilRow = row(A.page, HOSTILE_ID);
    await evilRow.waitFor({ timeout: 10000 });
    await evilRow.click();
    await A.page.waitForSelector('.customer .who-id');
    await A.page.selectOption('.prio-select', 'urgent');
    await A.page.waitForSelector(`.conv-row[data-conv] .sla[data-sla="breach"]`, { timeout: 12000 });
    c.ok(true, 'the SLA timer of the urgent conversation turns red when breached');
    // Query and read in one page task: $eval takes two round-trips, and a live update that
    // redraws the list between them leaves a detached badge, whose computed style is empty.
    const breachColor = await A.page.evaluate(() => {
      const el = document.querySelector('.conv-row[data-conv] .sla[data-sla="breach"]');
      return el ? getComputedStyle(el).backgroundColor : 'no breach badge';
    });
    c.eq(breachColor, 'rgb(192, 31, 20)', 'red');
    const hook = await L.until('the webhook POST', () => sink.got.find((g) => g.json && g.json.type === 'sla.breach'), 12000);
    c.eq(hook.method, 'POST', 'the webhook sink got a POST');
    c.eq(hook.json.conversation.user, HOSTILE_ID, 'about the breached conversation');
    c.eq(hook.json.sla.kind, 'first_response', 'naming the first-response clock');
    // The notice comes on the console's own channel, which may be behind the webhook.
    c.ok(await L.showsSoon(A.page, '.alert-breach', /SLA breached: first response/), 'the console raised a breach notice');
    await A.page.waitForSelector('.msg-user a.attachment', { timeout: 10000 });
    c.ok((await A.page.textContent('.msg-user a.attachment')).includes(`${HOSTILE}.txt`), 'the attached file is listed by its name, as text');
    const file = await A.page.evaluate(async () => {
      const r = await fetch(document.querySelector('.msg-user a.attachment').getAttribute('href'));
      return { status: r.status, disp: r.headers.get('content-disposition'), text: await r.text() };
    });
    c.ok(file.status === 200 && file.text === 'the log a player attached\n', 'the agent\'s session opens the file');
    c.ok(/^attachment;/.test(file.disp || ''), 'as a download, never inline');
    const texts = await A.page.$$eval('.msg-user .msg-text', (els) => els.map((e) => e.textContent));
    c.ok(texts.includes(HOSTILE), 'the hostile message renders as text');
    c.eq(await A.page.locator('#app img, #app iframe, #app script, #app svg:not(.chart svg)').count(), 0, 'no element came from user data');
    const custText = await A.page.textContent('#customer');
    c.ok(custText.includes(HOSTILE) && custText.includes('<script>alert(4)</script>') && custText.includes('<iframe src=javascript:alert(3)>'),
      'attribute values, event metadata and breadcrumbs render as text');
    c.eq(A.page.problems.filter((p) => /dialog/.test(p)).length, 0, 'no script from user data ran');

    // ---- take player-42, watch the context move, reply with quick replies ----
    await row(A.page, 'player-42').click();
    await A.page.click('button[data-action="Take"]');
    await A.page.waitForSelector('.conv-header .state-agent');
    // The timeline's line may come a moment after the header's new state.
    c.ok(await L.showsSoon(A.page, '.event-line[data-action="assign"]', /took the conversation/), 'the take is recorded with who did it');
    c.ok((await A.page.textContent('.event-line[data-action="assign"]')).includes('Dana S.'), 'as Dana');
    await A.page.waitForSelector('.screen-value:text("shop/gems")');
    const mover = L.chat(args.chat, server, ['--user', 'player-42', '--screen', 'checkout/payment', '--attr', 'plan=vip',
      '--attr', 'level=7', '--event', 'opened_checkout', '--timeout', '15']);
    await A.page.waitForSelector('.screen-value:text("checkout/payment")', { timeout: 10000 });
    c.ok(true, 'the user\'s new screen shows live in the customer view');
    c.eq(await A.page.locator('.screen.flash').count(), 1, 'the new screen is highlighted');
    c.eq(await A.page.locator('#customer tr.flash').count(), 0, 'attributes and device facts the app sent again unchanged are not');
    await mover.done;
    await A.page.fill('.reply-text', 'Which pack did you buy?');
    await A.page.fill('[data-add="qr"]', '500 gems');
    await A.page.press('[data-add="qr"]', 'Enter');
    await A.page.fill('[data-add="qr"]', '1200 gems');
    await A.page.press('[data-add="qr"]', 'Enter');
    await A.page.click('.send');
    await A.page.waitForSelector('.msg-agent [data-block="quick_replies"]');
    c.ok(true, 'the reply with quick replies is in the transcript');
    await A.page.waitForSelector('.postback strong:text("500 gems")', { timeout: 10000 });
    c.ok(true, 'the user\'s postback appears live');
    await A.page.screenshot({ path: path.join(SHOTS, 'conversation.png') });

    // ---- transfer to Sam, who closes; the CSAT answer reaches the dashboard ----
    const conv = await A.page.evaluate(() => decodeURIComponent(location.hash.replace(/^#\/c\//, '')));
    await A.page.selectOption('.transfer-select', 'sam');
    await A.page.waitForSelector('.event-line[data-action="transfer"]');
    c.ok((await A.page.textContent('.event-line[data-action="transfer"]')).includes('Sam Okafor'), 'the transfer is recorded');
    await B.page.click('.tab[data-filter="mine"]');
    await B.page.locator(`.conv-row[data-conv="${conv}"]`).waitFor({ timeout: 10000 });
    c.ok(true, 'the conversation is in Sam\'s "Mine" list');
    await B.page.click('.tab[data-filter="open"]');
    await B.page.waitForSelector('.conv-row.prio-urgent');
    await B.page.screenshot({ path: path.join(SHOTS, 'inbox.png') });
    await B.page.locator(`.conv-row[data-conv="${conv}"]`).click();
    await B.page.click('button[data-action="Close"]');
    await B.page.waitForSelector('.conv-header .state-closed');
    c.ok((await B.page.textContent('.event-line[data-action="close"]')).includes('Sam Okafor'), 'the close is recorded as Sam\'s');
    // The line shows the survey as sent, then as answered.
    await B.page.waitForSelector('.survey-line', { timeout: 15000 });
    c.ok(await L.showsSoon(B.page, '.survey-line', /CSAT 5/), 'the CSAT answer shows in the conversation');
    c.eq(await user.done, 0, 'parley-chat got everything it waited for');
    await B.page.click('#nav-dashboard');
    await B.page.waitForSelector('.kpi');
    const csat = await B.page.textContent('.kpi:nth-child(4)');
    c.ok(/100%/.test(csat) && /1 of 1 answered/.test(csat), 'the dashboard counts the CSAT answer');
    const api = await request(server.url + '/api/metrics?since=' + (Date.now() - 86400000) + '&until=' + (Date.now() + 60000), 'GET', undefined, { Authorization: 'Bearer test-admin-token' });
    c.eq(api.json.csat.responses, 1, 'GET /api/metrics counts one CSAT response');
    c.ok(api.json.first_response_s.samples >= 1, 'and a first response');
    const href = await B.page.getAttribute('a[download]', 'href');
    c.ok(href && href.startsWith('/api/metrics/conversations.csv?since='), 'the dashboard links the CSV of its window');
    const csv = await B.page.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, type: r.headers.get('content-type'), text: await r.text() }; }, href);
    c.ok(csv.status === 200 && /^text\/csv/.test(csv.type) && csv.text.includes(`"${conv}"`), 'which the session downloads, the conversation in it');
    await B.page.screenshot({ path: path.join(SHOTS, 'dashboard.png') });
    // ---- a transcript longer than a page ----
    const talker = L.chat(args.chat, server, ['--user', 'long-talker', '--subject', 'A long story', '--send', 'history 1',
      '--wait-replies', '0', '--timeout', '20']);
    users.push(talker);
    c.eq(await talker.done, 0, 'a user starts a conversation');
    const auth = { Authorization: 'Bearer test-admin-token' };
    const found = await request(server.url + '/api/conversations?user=long-talker', 'GET', undefined, auth);
    const longConv = found.json.items[0].id;
    const say = (text) => request(server.url + `/api/conversations/${encodeURIComponent(longConv)}/messages`, 'POST', { text }, auth);
    for (let i = 2; i <= 250; i++) await say(`history ${i}`);
    const shown = (text) => A.page.evaluate((t) => [...document.querySelectorAll('.transcript .msg-text')].some((e) => e.textContent === t), text);
    await A.page.evaluate((id) => { location.hash = '#/c/' + encodeURIComponent(id); }, longConv);
    c.eq(await L.soon(() => shown('history 250'), true), true, 'a long conversation opens on its newest message');
    c.eq(await shown('history 1'), false, 'without its oldest');
    const earlier = A.page.locator('.transcript button[data-action="earlier"]');
    c.eq(await earlier.count(), 1, 'with "Show earlier messages" at the top of the transcript');
    // What the agent reads at the top of the transcript: the oldest message shown.
    const top = await A.page.evaluate(() => {
      const box = document.querySelector('.transcript');
      box.scrollTop = 0;
      const m = box.querySelector('.msg');
      return { seq: m.dataset.seq, y: m.getBoundingClientRect().top };
    });
    await A.page.screenshot({ path: path.join(SHOTS, 'transcript-earlier.png') });
    await earlier.click();
    c.eq(await L.soon(() => shown('history 1'), true), true, 'the button loads the earlier messages, back to the first');
    c.eq(await L.soon(() => earlier.count(), 0), 0, 'and goes when there are no more');
    const y = await A.page.evaluate((seq) => document.querySelector(`.transcript .msg[data-seq="${seq}"]`).getBoundingClientRect().top, top.seq);
    c.ok(Math.abs(y - top.y) < 2, `the message the agent was reading stays where it was (${top.y} -> ${y})`);
    await say('history 251');
    c.eq(await L.soon(() => shown('history 251'), true), true, 'a live message still appends');
    c.eq(await shown('history 1'), true, 'and the earlier messages stay');
    // A live message that comes while the opening page is on its way (read
    // by the server before it) joins the page.
    let fetched, release;
    const read = new Promise((r) => { fetched = r; });
    const held = new Promise((r) => { release = r; });
    const newest = (url) => url.pathname === `/api/conversations/${encodeURIComponent(longConv)}/messages` && !url.search;
    await A.page.route(newest, async (route) => { const res = await route.fetch(); fetched(); await held; await route.fulfill({ response: res }); });
    await A.page.evaluate((id) => { location.hash = '#/c/' + encodeURIComponent(id); }, conv);
    await A.page.evaluate((id) => { location.hash = '#/c/' + encodeURIComponent(id); }, longConv);
    await read;
    await say('history 252');
    c.eq(await L.soon(() => shown('history 252'), true), true, 'reopened, a live message shows while the page is on its way');
    release();
    c.eq(await L.soon(() => shown('history 251'), true), true, 'the page comes');
    c.eq(await shown('history 252'), true, 'and the live message stays below it');
    await A.page.unroute(newest);
    for (const b of browsers) c.eq(b.page.problems.length, 0, 'no page errors: ' + b.page.problems.join('; '));
  } catch (e) {
    // Counted here, before the finally below decides whether to print the server's log.
    c.ok(false, 'unexpected: ' + (e.stack || e));
  } finally {
    for (const u of users) u.kill();
    for (const b of browsers) await b.ctx.close().catch(() => {});
    const code = await server.stop();
    c.eq(code, 0, 'the server stops cleanly');
    await sink.close();
    if (c.failed) console.log(server.log().slice(-4000));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => { c.ok(false, 'unexpected: ' + (e.stack || e)); }).then(() => process.exit(c.finish()));
