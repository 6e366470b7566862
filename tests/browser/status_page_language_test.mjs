// The public status page in Debian's headless Chromium, driven by
// Playwright, with JavaScript turned off: a browser set to German gets the
// page in German (Accept-Language), the switch on the page leads to the
// same page in English and back, and the published incident reads as
// approved inside each language's frame. Run by tests/e2e/selfservice_test.sh
// while INC-1 ("Checkout disruption") is public.
//
// Environment: PAGE_URL (heraldd's public address), ARTIFACTS (where the
// screenshots go).
import assert from 'node:assert/strict';
import {launchChromium, step} from './chromium.mjs';

const base = process.env.PAGE_URL;
const artifacts = process.env.ARTIFACTS;

const browser = await launchChromium();

try {
  const context = await browser.newContext({
    javaScriptEnabled: false,
    locale: 'de-DE',
    viewport: {width: 1024, height: 1400},
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  step('a browser set to German gets the page in German');
  const shown = await page.goto(`${base}/`);
  assert.equal(shown.status(), 200);
  assert.equal(await shown.headerValue('content-language'), 'de');
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  await page.getByRole('heading', {name: 'Komponenten'}).waitFor();
  await page.getByRole('heading', {name: 'Checkout disruption'}).waitFor();
  await page.screenshot({path: `${artifacts}/status-page-de.png`, fullPage: true});

  step('the switch leads to the same page in English');
  const switcher = page.getByRole('navigation', {name: 'Sprache'});
  await switcher.getByRole('link', {name: 'English'}).click();
  await page.waitForURL(`${base}/en/`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.getByRole('heading', {name: 'Components'}).waitFor();

  step('an incident opened from the English page stays English; its switch leads back');
  // The incident's heading links to its page (the day bars' hidden
  // tooltips link there too).
  await page.getByRole('heading', {name: 'Checkout disruption'})
      .getByRole('link').click();
  await page.waitForURL(/\/en\/incidents\/INC-1$/);
  await page.getByRole('heading', {name: 'Updates'}).waitFor();
  await page.getByRole('navigation', {name: 'Language'})
      .getByRole('link', {name: 'Deutsch'}).click();
  await page.waitForURL(/\/de\/incidents\/INC-1$/);
  await page.getByRole('heading', {name: 'Meldungen'}).waitFor();
  assert.equal(
      await page.getByRole('navigation', {name: 'Sprache'})
          .getByRole('link', {name: 'Deutsch'}).getAttribute('aria-current'),
      'page');
  console.log('PASS');
} finally {
  await browser.close();
}
