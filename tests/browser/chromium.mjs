// What every browser test shares: Debian's headless Chromium, launched as
// it can run here (as root in a container, without outside network), and
// the step lines the test logs.
import {chromium} from 'playwright-core';

export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update',
           '--disable-sync'],
  });
}

export function step(text) { console.log(`-- ${text}`); }
