// Drives the web console of a running `nexus serve` in Debian's headless
// Chromium with playwright-core (tests/app/console_test.py sets the scene).
// Every wait is Playwright's: a locator's condition with a deadline.
//
// Usage: node console.mjs BASE_URL TOKEN OUT_DIR CHROMIUM
import {chromium} from 'playwright-core';

const [base, token, out, executablePath] = process.argv.slice(2);
let failures = 0;
function expect(cond, what) {
  console.log((cond ? 'ok: ' : 'FAIL: ') + what);
  if (!cond)
    failures++;
}

async function api(path, body) {
  const r = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {Authorization: 'Bearer ' + token, 'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r.json();
}

const browser = await chromium.launch({executablePath, args: ['--no-sandbox']});
const page = await browser.newPage({viewport: {width: 1280, height: 900}});
try {
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));

  // The API needs the token: the console asks for it once.
  await page.goto(base + '/');
  await page.locator('#token-input').fill(token);
  await page.locator('#token-form button').click();
  await page.locator('#sagas tbody tr').first().waitFor();
  expect(await page.locator('#sagas tbody tr').count() >= 7, 'the sagas list shows every saga');
  await page.screenshot({path: out + '/sagas.png', fullPage: true});

  // Filter to compensated: only the doomed ones.
  await page.locator('#filter-status').selectOption('compensated');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#sagas tbody tr')];
    return rows.length > 0 && rows.every(r => r.querySelector('[data-status]').dataset.status === 'compensated');
  });
  const shown = await page.locator('#sagas tbody tr').count();
  expect(shown === 5, `filtered to compensated: ${shown} rows (3 doomed, 2 flaky)`);
  expect(page.url().includes('status=compensated'), 'the filter is in the address');

  // One of them: its timeline shows the failed step, then the compensations
  // in reverse order.
  await page.locator('#sagas tbody tr', {hasText: 'doomed'}).first().locator('a').click();
  await page.locator('#timeline rect[data-kind]').first().waitFor();
  const bars = await page.$$eval('#timeline rect[data-kind]', rects => rects
    .map(r => ({kind: r.dataset.kind, step: r.dataset.step, outcome: r.dataset.outcome,
                start: Number(r.dataset.start)}))
    .sort((a, b) => a.start - b.start)
    .map(b => `${b.kind}:${b.step}:${b.outcome}`));
  const want = ['step:a:ok', 'step:b:ok', 'step:c:failed', 'compensation:b:ok', 'compensation:a:ok'];
  expect(JSON.stringify(bars) === JSON.stringify(want),
         `the timeline: the failed step, then the compensations in reverse order: ${bars.join(', ')}`);
  await page.locator('#timeline rect[data-step="c"]').click();
  const detail = await page.locator('#detail').textContent();
  expect(detail.includes('"outcome": "failed"') && detail.includes('permanent'),
         'clicking the failed attempt shows its error');
  expect(await page.locator('#cancel').isDisabled(), 'an ended saga cannot be cancelled');
  await page.screenshot({path: out + '/saga.png', fullPage: true});

  // A running saga (parked on a wait): cancelled with the button.
  await page.locator('#search-cid').fill('hold-1');
  await page.locator('#search-cid').press('Enter');
  await page.locator('h1 [data-status="running"]').waitFor();
  await page.locator('#cancel').click();
  await page.locator('h1 [data-status="cancelled"]').waitFor();
  const ended = await api('/v1/sagas/hold-1');
  expect(ended.status === 'cancelled', `the cancel button ended the saga cancelled: ${ended.status}`);

  // The breakers, and one's history.
  await page.goto(base + '/#/breakers');
  await page.locator('#breakers tr[data-resource="ledger"]').waitFor();
  await page.locator('#breakers tr[data-resource="ledger"] a').click();
  await page.locator('#breaker-history tr').first().waitFor();
  const history = await page.locator('#breaker-history').textContent();
  expect(history.includes('opened'), 'the ledger breaker\'s history shows it opened');
  await page.screenshot({path: out + '/breakers.png', fullPage: true});

  // The live view: a saga started now appears as it ends.
  await page.goto(base + '/#/live');
  await page.locator('#figures .card').first().waitFor();
  await api('/v1/sagas/order', {correlation_id: 'live-1'});
  await page.locator('#live a', {hasText: 'live-1'}).waitFor();
  const row = await page.locator('#live tr', {hasText: 'live-1'}).innerText();
  expect(row.includes('completed'), `a saga that ends now shows in the live view, ended: ${row}`);
  await page.screenshot({path: out + '/live.png', fullPage: true});

  expect(errors.length === 0, `no script errors: ${errors.join('; ')}`);
} catch (err) {
  expect(false, String(err));
  // What the page showed, for the one who reads the failure.
  console.log('page at failure: ' + page.url() + '\n' + (await page.locator('#view').innerText()).slice(0, 2000));
  await page.screenshot({path: out + '/failure.png', fullPage: true});
} finally {
  await browser.close();
}
process.exit(failures === 0 ? 0 : 1);
