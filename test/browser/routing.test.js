#!/usr/bin/env node
// Triage and routing as agents see it, in real headless Chromium (issue 13,
// docs/routing.md): presence decides what a user is told, the queue puts
// the VIP lane first, the console shows each conversation's team, priority
// and triage with its reasons. See test/browser/README.md.
'use strict';
const fs = require('fs');
const path = require('path');
const http = require('http');
const L = require('./lib.js');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['server', 'chat', 'out']) {
  if (!args[k]) { console.error('usage: routing.test.js --server BIN --chat BIN --out DIR'); process.exit(2); }
}
const SHOTS = path.join(args.out, 'screenshots');
const TOKEN = 'routing-admin-token';
const NOBODY = 'Nobody from our payments team is online right now';
const c = new L.Checks();

// Two teams always open (office hours are unit-tested and in the e2e test),
// so the only thing that decides "is anybody there" is presence.
const ROUTING = {
  teams: {
    payments: { agents: ['Dana'] },
    support: { agents: ['sam'] },
  },
  default_team: 'support',
  rules: [
    { id: 'vip_failed_purchase', reason: 'VIP player whose purchase failed in the last 10 minutes',
      when: { attributes: { vip: true }, event: { name: 'purchase_failed', within_s: 600 } },
      add: { severity: 2 }, priority: 'urgent', team: 'payments', route: 'human', jump: true },
    { id: 'wants_human', reason: 'asked for a human', when: { keywords: ['human'] }, add: { effort: 1 }, route: 'human' },
    { id: 'complaint', reason: 'complaint words', when: { keywords: ['unacceptable'] }, add: { severity: 3 } },
  ],
  routes: [{ min_score: 0, route: 'bot' }],
};

function api(server, method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const req = http.request(server.url + p, { method, headers: { Authorization: 'Bearer ' + TOKEN,
      ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function convOf(server, user) {
  const r = await api(server, 'GET', '/api/conversations?user=' + encodeURIComponent(user));
  return r.json && r.json.items.length ? r.json.items[0].id : null;
}

const said = (u, text) => JSON.stringify(u.events).includes(text);
const rules = (conv) => ((conv.triage && conv.triage.reasons) || []).map((r) => r.rule);
const reasonText = (conv, rule) => ((conv.triage && conv.triage.reasons) || []).filter((r) => r.rule === rule).map((r) => r.text).join(' | ');

async function login(page, base, name, password) {
  await page.goto(base + '/');
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('.channel-up');
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const dir = L.tmpdir('routing-test');
  const dirs = [dir];
  const routing = path.join(dir, 'routing.json');
  fs.writeFileSync(routing, JSON.stringify(ROUTING));
  const db = path.join(dir, 'support.db');
  await L.addAgent(args.server, db, 'dana', 'agent', 'dana-password-1', 'Dana S.');
  await L.addAgent(args.server, db, 'sam', 'agent', 'sam-password-22', 'Sam Okafor');
  const server = await L.startServer(args.server, dir, ['--routing', routing, '--agent-token', TOKEN]);
  const users = [];
  const browsers = [];
  try {
    // ---- nobody of payments online: the VIP is told so, and queued all the same ----
    const vipArgs = (user) => ['--user', user, '--attr', 'vip=true', '--screen', 'shop/gems',
      '--event', 'purchase_failed={"sku":"gems_500","code":402}', '--category', 'payments', '--area', 'shop/gems',
      '--severity', 'high', '--subject', 'Gems not delivered', '--send', 'Where are my gems?',
      '--wait-replies', '1', '--timeout', '20'];
    const early = L.chat(args.chat, server, vipArgs('vip-early'));
    users.push(early);
    c.eq(await early.done, 0, 'the VIP\'s parley-chat got its reply');
    c.ok(said(early, NOBODY), 'with nobody of payments online, the VIP is told so');
    const earlyConv = await convOf(server, 'vip-early');
    let d = (await api(server, 'GET', '/api/conversations/' + earlyConv)).json;
    c.eq(d.state, 'queued', 'and the conversation is queued all the same');
    c.ok(/nobody of it is online/.test(reasonText(d, 'presence')), 'the reasons say nobody was online: ' + reasonText(d, 'presence'));
    c.eq(d.priority, 'urgent', 'the conversation\'s priority is the triage\'s');
    c.eq(d.priority_by, 'rules', 'set by the rules');
    c.eq(d.about && d.about.category, 'payments', 'what the app said about the request is kept');

    // ---- Dana (payments) and Sam (support) sign in ----
    const A = await L.browser('dana', dirs);
    const B = await L.browser('sam', dirs);
    browsers.push(A, B);
    await login(A.page, server.url, 'dana', 'dana-password-1');
    await login(B.page, server.url, 'sam', 'sam-password-22');
    await L.until('both agents online', async () => {
      const r = await api(server, 'GET', '/api/agents');
      return r.json.filter((a) => a.presence === 'online').length === 2;
    });
    c.ok(true, 'both agents are online');

    // ---- two plain users ask for a human, then a VIP with a failed purchase ----
    for (const u of ['plain-1', 'plain-2']) {
      const p = L.chat(args.chat, server, ['--user', u, '--send', 'I need to talk to a human please', '--wait-replies', '1', '--timeout', '20']);
      users.push(p);
      c.eq(await p.done, 0, `${u} got an answer`);
      c.ok(!said(p, 'is online right now'), `${u} is not told that nobody is there (Sam is online)`);
    }
    const plain = (await api(server, 'GET', '/api/conversations/' + await convOf(server, 'plain-1'))).json;
    c.ok(/team support is open, 1 agent online/.test(reasonText(plain, 'presence')), 'the reasons count who was online: ' + reasonText(plain, 'presence'));
    const lateData = path.join(dir, 'vip-late-data');
    const vip = L.chat(args.chat, server, [...vipArgs('vip-late'), '--data-dir', lateData]);
    users.push(vip);
    c.eq(await vip.done, 0, 'the second VIP got a reply');
    c.ok(!said(vip, NOBODY), 'with Dana online, the VIP is not told that nobody is there');
    const vipConv = await convOf(server, 'vip-late');
    const queue = (await api(server, 'GET', '/api/queue')).json;
    c.eq(queue[0].team, 'payments', 'the first in GET /api/queue is a payments VIP');
    c.eq(queue[0].priority, 'urgent', 'urgent');
    c.ok(queue.findIndex((q) => q.conv === vipConv) < queue.findIndex((q) => q.user === 'plain-1'), 'the VIP who wrote last is ahead of the plain users');

    // ---- the console: the queue in the server's order, with team and VIP lane ----
    await A.page.locator(`.conv-row[data-conv="${vipConv}"]`).waitFor({ timeout: 10000 });
    // The row can show before the queue frame that places it: wait a moment for the order.
    const order = async () => JSON.stringify(await A.page.$$eval('#conv-list .conv-row', (els) => els.map((e) => e.dataset.conv)));
    const serverOrder = JSON.stringify(queue.map((q) => q.conv));
    c.eq(await L.soon(order, serverOrder, 5000), serverOrder, 'the Queue tab lists the conversations in the server\'s line');
    const places = () => A.page.$$eval('#conv-list .conv-row', (els) => els.map((e) => (e.textContent.match(/#(\d+) in line/) || [])[1]).join(','));
    c.eq(await L.soon(places, '1,2,3,4', 5000), '1,2,3,4', 'each row\'s place in line moved when the VIP went ahead');
    const vipRow = A.page.locator(`.conv-row[data-conv="${vipConv}"]`);
    c.eq(await vipRow.locator('.team-tag').textContent(), 'payments', 'the row shows the team');
    c.eq(await vipRow.locator('.vip-tag').count(), 1, 'and the VIP lane');
    c.eq(await vipRow.locator('.prio-tag-urgent').count(), 1, 'and the priority the rules set');
    const plainRow = A.page.locator('.conv-row', { has: A.page.locator('.row-user', { hasText: 'plain-1' }) });
    c.eq(await plainRow.locator('.team-tag').textContent(), 'support', 'a plain request is the support team\'s');
    await A.page.screenshot({ path: path.join(SHOTS, 'routing-inbox.png') });

    // ---- the conversation: the triage with its reasons ----
    await vipRow.click();
    await A.page.waitForSelector('.triage-summary');
    const summary = await A.page.textContent('.triage-summary');
    c.ok(/Score \d+/.test(summary) && summary.includes('human queue') && summary.includes('team payments') && summary.includes('VIP lane'),
      'the header shows the score, route, team and VIP lane: ' + summary);
    await A.page.click('.triage-summary');
    await A.page.waitForSelector('.triage-reasons li[data-rule="vip_failed_purchase"]');
    const reasons = await A.page.$$eval('.triage-reasons li', (els) => els.map((e) => e.textContent));
    c.ok(reasons.some((r) => r.includes('VIP player whose purchase failed in the last 10 minutes')), 'the reasons are listed as agents read them');
    c.ok(reasons.some((r) => /team payments is open, 1 agent online/.test(r)), 'including who was online');
    c.ok((await A.page.textContent('.triage-about')).includes('payments · shop/gems · severity hint high'), 'and what the app said about the request');
    c.ok(await L.showsSoon(A.page, '.transcript', /Triage set the priority to urgent/), 'the transcript says the triage set the priority');
    await A.page.screenshot({ path: path.join(SHOTS, 'routing-conversation.png') });

    // ---- the user writes again while queued: the open header follows the new triage ----
    const again = L.chat(args.chat, server, ['--user', 'vip-late', '--attr', 'vip=true', '--screen', 'shop/gems', '--data-dir', lateData, '--resume', '--send', 'This is unacceptable', '--timeout', '15']);
    users.push(again);
    c.eq(await again.done, 0, 'the VIP writes again while queued ' + again.stderr());
    await A.page.waitForSelector('.triage-reasons li[data-rule="complaint"]', { timeout: 10000 });
    c.ok(true, 'the open conversation\'s reasons gain the rule that fired, without a reload');
    c.ok(/Score \d+/.test(await A.page.textContent('.triage-summary')) && (await A.page.textContent('.triage-summary')) !== summary,
      'and its score moved: ' + await A.page.textContent('.triage-summary'));

    // ---- taking the next one respects teams ----
    const plainConv = await convOf(server, 'plain-1');
    await B.page.click('button[data-action="take-next"]');
    const hash = () => B.page.evaluate(() => location.hash);
    const want = '#/c/' + encodeURIComponent(plainConv);
    c.eq(await L.soon(hash, want), want, 'Sam\'s "Take the next for my teams" opens plain-1, the first of support, behind two payments VIPs');
    await B.page.waitForSelector('.conv-header .state-agent');
    d = (await api(server, 'GET', '/api/conversations/' + plainConv)).json;
    c.eq(d.assignee && d.assignee.name, 'sam', 'and gives it to Sam');

    const danaNext = await api(server, 'POST', '/api/queue/next', { agent: 'dana' });
    c.eq(danaNext.json && danaNext.json.id, earlyConv, 'POST /api/queue/next gives Dana the first payments VIP');
    d = (await api(server, 'GET', '/api/conversations/' + earlyConv)).json;
    c.ok(!rules(d).includes('assign'), 'a member of the team taking it adds no "assign" reason');
    await B.page.screenshot({ path: path.join(SHOTS, 'routing-take-next.png') });

    // ---- a live update that changes nothing in the open header leaves it in place ----
    // Redrawn, it would close an open menu and lose a click that lands during the update.
    await B.page.waitForSelector('.conv-header .triage-summary');
    await B.page.click('.tab[data-filter="open"]');
    await B.page.evaluate(() => { document.querySelector('.conv-header').kept = true; });
    const word = 'A word from the API while Sam has it open';
    c.eq((await api(server, 'POST', `/api/conversations/${plainConv}/messages`, { name: 'Dana', text: word })).status, 201, 'a message comes in');
    await B.page.locator(`.conv-row[data-conv="${plainConv}"] .row-last`, { hasText: word }).waitFor({ timeout: 10000 });
    c.ok(await B.page.evaluate(() => document.querySelector('.conv-header').kept === true),
      'the conversation\'s update reached Sam\'s console, and its header is the same one');

    // ---- Sam takes a payments conversation: allowed, and said ----
    const took = await api(server, 'POST', `/api/conversations/${vipConv}/assign`, { agent: 'sam' });
    c.eq(took.status, 200, 'an agent outside the team may take the conversation');
    d = (await api(server, 'GET', '/api/conversations/' + vipConv)).json;
    c.ok(/assigned to sam, outside team payments/.test(reasonText(d, 'assign')), 'the reasons say it was outside the team: ' + reasonText(d, 'assign'));
    const none = await api(server, 'POST', '/api/queue/next', { agent: 'dana' });
    c.eq(none.status, 404, 'with no payments conversation left, Dana\'s next is 404 (plain-2 is support\'s)');
    const noBody = await api(server, 'POST', '/api/queue/next', {});
    c.eq(noBody.status, 400, 'the API token must name the agent');

    for (const b of browsers) c.eq(b.page.problems.length, 0, 'no page errors: ' + b.page.problems.join('; '));
  } catch (e) {
    // Counted here, before the finally below decides whether to print the server's log.
    c.ok(false, 'unexpected: ' + (e.stack || e));
  } finally {
    for (const u of users) u.kill();
    for (const b of browsers) await b.ctx.close().catch(() => {});
    const code = await server.stop();
    c.eq(code, 0, 'the server stops cleanly');
    if (c.failed) console.log(server.log().slice(-4000));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => { c.ok(false, 'unexpected: ' + (e.stack || e)); }).then(() => process.exit(c.finish()));
