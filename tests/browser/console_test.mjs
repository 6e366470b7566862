// The comms console in Debian's headless Chromium, driven by Playwright.
// Run by tests/e2e/console_browser_test.sh against a running heraldd that
// has INC-1 open and a draft from an engineer's `herald update`.
//
// Environment: HERALD_URL (the HTTP edge), LEAD_TOKEN and ENGINEER_TOKEN
// (API tokens), HERALD_BIN (the herald CLI, for a second update while the
// inbox is open), ARTIFACTS (where the screenshots go), APPROVED_REF_FILE
// (where the approved message's ref is written).
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {launchChromium, step} from './chromium.mjs';

const base = process.env.HERALD_URL;
const artifacts = process.env.ARTIFACTS;
const edited = 'We rolled back the cart release and checkout errors are ' +
    'falling. Next update within 30 minutes.';

const browser = await launchChromium();

async function signIn(context, token) {
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${base}/console/`);
  assert.match(page.url(), /\/console\/sign-in$/);
  await page.getByLabel('Your herald API token').fill(token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.waitForURL(`${base}/console/`);
  return page;
}

// Every visible form control has a label; every button has a name.
// (Keyboard use is checked where the test edits and approves.)
async function checkLabels(page) {
  const unlabelled = await page.$$eval(
      'input:not([type=hidden]), textarea, select',
      (els) => els.filter((e) => !e.labels || e.labels.length === 0)
                  .map((e) => e.outerHTML));
  assert.deepEqual(unlabelled, [], 'controls without a label');
  const unnamed = await page.$$eval(
      'button', (els) => els.filter((e) => !e.textContent.trim())
                            .map((e) => e.outerHTML));
  assert.deepEqual(unnamed, [], 'buttons without a name');
}

// Text and controls meet WCAG 2.1 AA contrast: 4.5:1 for body text, 3:1
// for large or bold text of 18.66 px and up.
async function checkContrast(page) {
  const failures = await page.$$eval(
      'h1, h2, p, td, th, a, button, .badge, .hint, label, summary, caption',
      (els) => {
        const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
        const lum = ([r, g, b]) => {
          const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
          return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
        };
        const background = (el) => {
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
          }
          return [255, 255, 255];
        };
        const out = [];
        for (const el of els) {
          if (!el.offsetParent || !el.textContent.trim()) continue;
          const style = getComputedStyle(el);
          const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(background(el))];
          const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
          const large = parseFloat(style.fontSize) >= 18.66 ||
              (parseFloat(style.fontSize) >= 14 && Number(style.fontWeight) >= 700);
          if (ratio < (large ? 3 : 4.5)) {
            out.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
          }
        }
        return out;
      });
  assert.deepEqual(failures, [], 'text below WCAG AA contrast');
}

try {
  const lead = await browser.newContext({viewport: {width: 1280, height: 900}});
  const page = await signIn(lead, process.env.LEAD_TOKEN);

  step('the inbox shows the draft from the engineer\'s update');
  const inbox = page.locator('#inbox');
  const row = inbox.locator('tbody tr').first();
  await row.waitFor();
  assert.match(await row.innerText(), /INC-1/);
  assert.match(await row.innerText(), /alice/);
  assert.match(await row.innerText(), /1 subscriber/);
  const link = row.locator('a[href^="/console/messages/"]');
  const ref = (await link.innerText()).split(':')[0];
  await checkLabels(page);
  await checkContrast(page);
  await page.screenshot({path: `${artifacts}/console-inbox.png`, fullPage: true});

  step(`review ${ref}: each channel, the engineer's note, the email itself`);
  await link.click();
  await page.waitForURL(`${base}/console/messages/${ref}`);
  for (const heading of ['Status page', 'Email', 'Short text (SMS, Slack)']) {
    await page.getByRole('heading', {name: heading, exact: true}).waitFor();
  }
  await page.locator('#notes li.source',
                     {hasText: 'rolled back the cart deploy'}).waitFor();
  await page.frameLocator('iframe.email').locator('body', {hasText: 'Grace Hopper'})
      .waitFor();
  await checkLabels(page);
  await checkContrast(page);
  await page.screenshot({path: `${artifacts}/console-review.png`, fullPage: true});

  step('edit it, then approve the new version, by keyboard');
  await page.getByLabel('Text', {exact: true}).fill(edited);
  await page.getByLabel('Text', {exact: true}).press('Tab');
  await page.keyboard.press('Enter');  // focus is on "Save as a new version"
  await page.locator('.notice', {hasText: 'Saved as version 2'}).waitFor();
  await page.locator('#diff ins', {hasText: 'cart release'}).waitFor();
  await page.getByRole('button', {name: 'Approve and publish version 2'}).focus();
  await page.keyboard.press('Enter');
  await page.locator('.notice', {hasText: 'Approved and published'}).waitFor();
  writeFileSync(process.env.APPROVED_REF_FILE, ref);

  step('the public status page shows the edited text');
  const status = await lead.newPage();
  await status.goto(`${base}/`);
  assert.match(await status.locator('body').innerText(),
               /We rolled back the cart release and checkout errors are falling/);
  await status.close();

  step('the incident view shows the message and its reach');
  await page.goto(`${base}/console/incidents/INC-1`);
  const published = page.locator('#messages tr', {hasText: ref});
  assert.match(await published.innerText(), /published/);
  assert.match(await published.innerText(), /of 1 recipients reached/);

  step('the open inbox shows a new draft without a reload');
  await page.goto(`${base}/console/`);
  await page.locator('.notice', {hasText: 'Nothing waits for approval'}).waitFor();
  await page.evaluate(() => { window.heraldNotReloaded = true; });
  await page.locator('#live-status', {hasText: 'Live'}).waitFor();
  execFileSync(process.env.HERALD_BIN,
               ['update', 'INC-1', 'cache warmed, latency normal'],
               {env: {...process.env, HERALD_TOKEN: process.env.ENGINEER_TOKEN}});
  const fresh = inbox.locator('tbody tr').first();
  await fresh.waitFor();
  assert.equal(await page.evaluate(() => window.heraldNotReloaded), true,
               'the page was reloaded instead of updated in place');
  const next = (await fresh.locator('a[href^="/console/messages/"]').innerText())
                   .split(':')[0];
  assert.notEqual(next, ref);

  step(`an engineer can read ${next} but is refused approval`);
  const engineerContext = await browser.newContext();
  const engineer = await signIn(engineerContext, process.env.ENGINEER_TOKEN);
  await engineer.goto(`${base}/console/messages/${next}`);
  await engineer.locator('#read-only').waitFor();
  assert.equal(await engineer.getByRole('button', {name: /^Approve/}).count(), 0);
  const refused = await engineer.evaluate(async (message) => {
    const csrf = document.querySelector('input[name=csrf]').value;
    const response = await fetch('/console/api/herald.v1.MessageService/ApproveMessage', {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
      body: JSON.stringify({message}),
    });
    return {status: response.status, body: await response.json()};
  }, next);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'PERMISSION_DENIED');

  step('with JavaScript off the pages still read');
  const noScript = await browser.newContext({javaScriptEnabled: false});
  const reader = await signIn(noScript, process.env.LEAD_TOKEN);
  await reader.goto(`${base}/console/messages/${next}`);
  assert.match(await reader.locator('#notes').innerText(), /cache warmed/);
  console.log('console browser test passed');
} finally {
  await browser.close();
}
