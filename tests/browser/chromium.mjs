// Debian's Chromium, driven by playwright-core, as every browser test starts it. Not a test.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.TB_CHROMIUM || '/usr/bin/chromium';

export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Containers run as root without user namespaces: Chromium's sandbox cannot start there.
    // The rest keeps it from talking to Google's services during a test.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
