// A subscriber's preferences page in Debian's headless Chromium, driven by
// Playwright, with JavaScript turned off: the page must work without it.
// Run by tests/e2e/selfservice_test.sh with the "change what you receive"
// link from a subscriber's email, who follows Checkout in English.
//
// Environment: MANAGE_URL (the link), ARTIFACTS (where the screenshot goes).
import assert from 'node:assert/strict';
import {launchChromium, step} from './chromium.mjs';

const url = process.env.MANAGE_URL;
const artifacts = process.env.ARTIFACTS;

const browser = await launchChromium();

try {
  const context = await browser.newContext(
      {javaScriptEnabled: false, viewport: {width: 1024, height: 1400}});
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  step('the link opens their preferences, as they are now');
  const shown = await page.goto(url);
  assert.equal(shown.status(), 200);
  await page.getByRole('heading', {name: 'Your subscription'}).waitFor();
  assert.equal(await page.getByLabel('Checkout').isChecked(), true);
  assert.equal(await page.getByLabel('Public API').isChecked(), false);
  // Every control has a label a screen reader can announce.
  const unlabelled = await page.$$eval(
      'input:not([type=hidden]), select, textarea',
      (els) => els.filter((e) => !e.labels || e.labels.length === 0)
                  .map((e) => e.outerHTML));
  assert.deepEqual(unlabelled, [], 'controls without a label');

  step('they follow the Public API instead, in German, in Tokyo');
  await page.getByLabel('Checkout').uncheck();
  await page.getByLabel('Public API').check();
  await page.getByLabel('Language of your emails').selectOption({label: 'Deutsch'});
  await page.getByLabel('Time zone for the times in them').selectOption('Asia/Tokyo');
  await page.getByRole('button', {name: 'Save my changes'}).click();

  step('the answer is already in German, with their choices shown');
  await page.getByRole('heading', {name: 'Ihre Änderungen sind gespeichert'}).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  assert.equal(await page.getByLabel('Public API').isChecked(), true);
  assert.equal(await page.getByLabel('Checkout').isChecked(), false);
  assert.equal(await page.getByLabel('Zeitzone für die Uhrzeiten darin').inputValue(),
               'Asia/Tokyo');
  await page.screenshot({path: `${artifacts}/preferences-saved.png`, fullPage: true});

  step('choosing nothing is refused, in German, and nothing changes');
  await page.getByLabel('Public API').uncheck();
  await page.getByRole('button', {name: 'Änderungen speichern'}).click();
  await page.getByRole('alert').filter(
      {hasText: 'mindestens eine der aufgeführten Komponenten'}).waitFor();
  console.log('PASS');
} finally {
  await browser.close();
}
