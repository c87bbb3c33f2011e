#!/usr/bin/env node
// The console's sources keep user data inert by construction: no HTML is
// parsed from strings anywhere (render.js builds every node), no inline
// script or style that the Content-Security-Policy would have to allow, no
// code from strings, nothing loaded from another origin.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: check-sources.js CONSOLE_DIR');
  process.exit(2);
}
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.error('FAIL ' + what); }
}

const files = fs.readdirSync(dir).filter((f) => /\.(js|html|css)$/.test(f));
check(files.includes('index.html') && files.includes('app.js') && files.includes('render.js'), 'the console files are there');
const FORBIDDEN_JS = [
  [/\binnerHTML\b/, 'innerHTML'], [/\bouterHTML\b/, 'outerHTML'], [/insertAdjacentHTML/, 'insertAdjacentHTML'],
  [/document\.write/, 'document.write'], [/\beval\s*\(/, 'eval('], [/new\s+Function\s*\(/, 'new Function('],
  [/createContextualFragment/, 'createContextualFragment'], [/DOMParser/, 'DOMParser'],
  [/setAttribute\(\s*['"]on/i, 'setAttribute("on…")'], [/srcdoc/, 'srcdoc'],
  [/setTimeout\(\s*['"`]/, 'setTimeout with a string'], [/https?:\/\/(?!example\.com|www\.w3\.org\/2000\/svg)/, 'an absolute URL'],
];
for (const f of files) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8');
  if (f.endsWith('.js')) {
    for (const [re, name] of FORBIDDEN_JS) check(!re.test(text), `${f}: uses ${name}`);
  }
  if (f.endsWith('.html')) {
    check(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(text), `${f}: inline <script>`);
    check(!/<style/i.test(text), `${f}: inline <style>`);
    check(!/\sstyle=/i.test(text), `${f}: style attribute`);
    check(!/\son[a-z]+=/i.test(text), `${f}: inline event handler`);
    check(!/(src|href)=["']https?:/i.test(text), `${f}: loads from another origin`);
  }
  if (f.endsWith('.css')) check(!/@import|url\(\s*['"]?https?:/i.test(text), `${f}: loads from another origin`);
}
// textContent is the only way text reaches the DOM in render.js.
const render = fs.readFileSync(path.join(dir, 'render.js'), 'utf8');
check(/textContent/.test(render) && /createTextNode/.test(render), 'render.js sets text as text');
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
