// Puppeteer attached to a Periscope session: node session_title.js <browserWSEndpoint> <url for a new page>
// Prints one JSON line: what the client sees (contexts, its pages' titles), the title of a page it
// opens itself, and whether Browser.close left it disconnected.
const puppeteer = require('puppeteer-core');

(async () => {
  const [endpoint, newPageUrl] = process.argv.slice(2);
  const browser = await puppeteer.connect({ browserWSEndpoint: endpoint, defaultViewport: null, protocolTimeout: 20000 });
  const pages = await browser.pages();
  const titles = await Promise.all(pages.map((page) => page.title()));
  const page = await browser.newPage();
  await page.goto(newPageUrl);
  const newTitle = await page.title();
  const contexts = browser.browserContexts().length;
  const pageCount = (await browser.pages()).length;
  await browser.close(); // Browser.close: ends this connection, not the session
  process.stdout.write(JSON.stringify({ titles, contexts, newTitle, pageCount, connected: browser.connected }) + '\n');
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\n');
  process.exit(1);
});
