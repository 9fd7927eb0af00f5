// Herald's pages in a real browser: Debian's Chromium (/usr/bin/chromium),
// headless, driven by playwright-core (which never downloads a browser of
// its own here). tests/integration/test_browser.py starts the server and
// runs this with its address; any server will do:
//
//   node tests/browser/browser_tests.mjs --base-url=http://127.0.0.1:8000/ \
//        --out=build/test-output/browser [--password=PW] [--ca-cert=ca.pem] \
//        [--ignore-https-errors] [--chromium=/usr/bin/chromium] SCENARIO...
//
// Scenarios: chat (two browser contexts chat both ways on /ws), dashboard
// (signs in, charts drawn, figures follow a chat), dashboard-wrong-password
// (the refusal is shown), compression (the server runs with compression =
// true: Chromium's own WebSocket negotiates permessage-deflate, and a large
// message goes both ways compressed, then the chat works on top). Each saves a screenshot of what a user sees in
// --out (and one named *-failure.png when it fails), and prints
// "ok SCENARIO". https: --ca-cert trusts a test CA (put into a fresh NSS
// database with certutil, as Chromium on Linux reads one from $HOME), or
// --ignore-https-errors skips certificate checks.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const WAIT_MS = 20000; // a deadline for what the page must show, not a measurement

function parseArgs(argv) {
  const options = {
    baseUrl: "",
    out: "",
    password: "",
    caCert: "",
    ignoreHttpsErrors: false,
    chromium: "/usr/bin/chromium",
    scenarios: [],
  };
  for (const arg of argv) {
    const [key, ...rest] = arg.split("=");
    const value = rest.join("=");
    if (key === "--base-url") options.baseUrl = value.endsWith("/") ? value : `${value}/`;
    else if (key === "--out") options.out = value;
    else if (key === "--password") options.password = value;
    else if (key === "--ca-cert") options.caCert = value;
    else if (key === "--ignore-https-errors") options.ignoreHttpsErrors = true;
    else if (key === "--chromium") options.chromium = value;
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else options.scenarios.push(arg);
  }
  if (!options.baseUrl || !options.out || options.scenarios.length === 0) {
    throw new Error("usage: browser_tests.mjs --base-url=URL --out=DIR [options] SCENARIO...");
  }
  return options;
}

// A HOME whose NSS database trusts `caCert`: Chromium on Linux takes its
// trusted roots from $HOME/.pki/nssdb.
function homeTrusting(caCert) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "herald-browser-home-"));
  const db = path.join(home, ".pki", "nssdb");
  fs.mkdirSync(db, { recursive: true });
  execFileSync("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"]);
  execFileSync("certutil", ["-A", "-d", `sql:${db}`, "-t", "C,,", "-n", "herald-test-ca",
                            "-i", caCert]);
  return home;
}

async function launch(options) {
  const env = { ...process.env };
  if (options.caCert) env.HOME = homeTrusting(options.caCert);
  // launch() gives every run a fresh, temporary user-data dir.
  return chromium.launch({
    executablePath: options.chromium,
    headless: true,
    // As root (CI containers) Chromium refuses to start with its sandbox.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
    env,
  });
}

async function newContext(browser, options) {
  return browser.newContext({
    ignoreHTTPSErrors: options.ignoreHttpsErrors,
    viewport: { width: 1280, height: 900 },
  });
}

function collectProblems(page, problems, label) {
  page.on("pageerror", (error) => problems.push(`${label}: page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`${label}: console: ${message.text()}`);
  });
}

async function screenshot(page, options, name) {
  await page.screenshot({ path: path.join(options.out, `${name}.png`), fullPage: true });
}

// --- scenarios -----------------------------------------------------------------------

async function openChat(browser, options, name, problems) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  collectProblems(page, problems, name);
  await page.goto(options.baseUrl);
  await page.waitForSelector('#status[data-state="online"]', { timeout: WAIT_MS });
  await page.fill("#name", name);
  await page.dispatchEvent("#name", "change");
  return page;
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

async function waitForMessage(page, author, text) {
  await page.waitForFunction(
    ([who, what]) => [...document.querySelectorAll(".message")].some(
      (item) => item.querySelector(".message__author")?.textContent === who &&
                item.querySelector(".message__text")?.textContent === what),
    [author, text], { timeout: WAIT_MS });
}

async function chat(browser, options, problems) {
  const alice = await openChat(browser, options, "alice", problems);
  const bob = await openChat(browser, options, "bob", problems);
  await say(alice, "hello from alice");
  await waitForMessage(bob, "alice", "hello from alice");
  await waitForMessage(alice, "alice", "hello from alice"); // the sender sees it too
  await say(bob, "hi alice, bob here");
  await waitForMessage(alice, "bob", "hi alice, bob here");
  await waitForMessage(bob, "bob", "hi alice, bob here");
  await screenshot(alice, options, "chat-alice");
  await screenshot(bob, options, "chat-bob");
  return [alice, bob];
}

async function openDashboard(browser, options, problems, password) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  collectProblems(page, problems, "dashboard");
  await page.goto(new URL("dashboard.html", options.baseUrl).href);
  await page.waitForSelector("#password", { timeout: WAIT_MS });
  // The link from the chat page leads here.
  await page.fill("#password", password);
  await page.click("#sign-in");
  return page;
}

// The first node's figures in the table, as the page shows them.
function figures(page) {
  return page.evaluate(() => {
    const row = document.querySelector("#nodes tr");
    if (!row) return null;
    const values = {};
    for (const cell of row.querySelectorAll("[data-field]")) {
      values[cell.dataset.field] = cell.textContent;
    }
    return values;
  });
}

// Whether every chart's canvas has something drawn on it.
function chartsDrawn(page) {
  return page.evaluate(() => {
    const canvases = [...document.querySelectorAll(".uplot canvas")];
    if (canvases.length < 6) return { count: canvases.length, drawn: 0 };
    let drawn = 0;
    for (const canvas of canvases) {
      if (canvas.width === 0 || canvas.height === 0) continue;
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < pixels.length; i += 4) {
        if (pixels[i] !== 0) {
          drawn += 1;
          break;
        }
      }
    }
    return { count: canvases.length, drawn };
  });
}

async function dashboard(browser, options, problems) {
  // The chat page links to the dashboard.
  const linkContext = await newContext(browser, options);
  const linkPage = await linkContext.newPage();
  await linkPage.goto(options.baseUrl);
  await linkPage.click('a[href="dashboard.html"]');
  await linkPage.waitForSelector("#password", { timeout: WAIT_MS });
  await linkContext.close();

  const page = await openDashboard(browser, options, problems, options.password);
  await page.waitForSelector('#status[data-state="online"]', { timeout: WAIT_MS });
  await page.waitForSelector("#nodes tr", { timeout: WAIT_MS });
  await page.waitForFunction(() => document.querySelectorAll(".uplot").length === 6,
                             null, { timeout: WAIT_MS });
  const before = await figures(page);
  if (before.ws !== "0") throw new Error(`no chat is open yet, but ws shows ${before.ws}`);

  // A chat on /ws: the dashboard must show its connection and publications.
  const alice = await openChat(browser, options, "alice", problems);
  const messages = 5;
  for (let i = 0; i < messages; i += 1) {
    await say(alice, `message ${i}`);
    await waitForMessage(alice, "alice", `message ${i}`);
  }
  await page.waitForFunction(
    ([publications, sent]) => {
      const cell = (field) => document.querySelector(`#nodes tr [data-field="${field}"]`);
      return Number(cell("ws")?.textContent) >= 1 &&
             Number(cell("publications")?.textContent) >= publications + sent;
    },
    [Number(before.publications), messages], { timeout: WAIT_MS });
  // A second later at least two points per line: lines, not dots.
  await page.waitForTimeout(1500);
  const drawn = await chartsDrawn(page);
  if (drawn.count < 6 || drawn.drawn < 6) {
    throw new Error(`charts: ${drawn.count} canvases, ${drawn.drawn} with anything drawn`);
  }
  const after = await figures(page);
  if (after.publications === before.publications) throw new Error("the figures did not move");
  await screenshot(page, options, "dashboard");
  return [page, alice];
}

async function dashboardWrongPassword(browser, options, problems) {
  const page = await openDashboard(browser, options, [], `${options.password}-not`);
  await page.waitForSelector("#login-error:not([hidden])", { timeout: WAIT_MS });
  const text = await page.textContent("#login-error");
  if (text !== "Wrong password.") throw new Error(`the page shows "${text}"`);
  if (!(await page.isVisible("#login")) || (await page.isVisible("#live"))) {
    throw new Error("a wrong password got past the sign-in form");
  }
  await screenshot(page, options, "dashboard-wrong-password");
  return [page];
}

// Chromium offers permessage-deflate on every WebSocket; with the server's
// compression on, the page's socket reports the extension, a message over
// compression-min-bytes comes back intact (Chromium compressed it on the
// way in, Herald on the way out), and the chat page works as before.
async function compression(browser, options, problems) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  collectProblems(page, problems, "compression");
  await page.goto(options.baseUrl);
  const result = await page.evaluate(async () => {
    const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("the WebSocket failed"));
    });
    const text = Array.from({ length: 500 }, (_, i) => `price-${i}`).join(" ");
    const echoed = new Promise((resolve) => {
      ws.onmessage = (event) => resolve(event.data);
    });
    ws.send(JSON.stringify({ message: text }));
    const data = await echoed;
    ws.close();
    return { extensions: ws.extensions, same: JSON.parse(data).message === text };
  });
  if (!result.extensions.startsWith("permessage-deflate")) {
    throw new Error(`the socket negotiated "${result.extensions}"`);
  }
  if (!result.same) throw new Error("the large message came back different");
  await page.close();
  return chat(browser, options, problems);
}

const SCENARIOS = {
  chat,
  compression,
  dashboard,
  "dashboard-wrong-password": dashboardWrongPassword,
};

// --- main ------------------------------------------------------------------------------

const options = parseArgs(process.argv.slice(2));
fs.mkdirSync(options.out, { recursive: true });
const browser = await launch(options);
let failed = false;
try {
  for (const name of options.scenarios) {
    const run = SCENARIOS[name];
    if (!run) throw new Error(`unknown scenario ${name}`);
    const problems = [];
    try {
      await run(browser, options, problems);
      // The 403 the wrong-password scenario provokes is logged by Chromium;
      // any other error on a page fails the scenario.
      if (problems.length) throw new Error(problems.join("\n"));
      console.log(`ok ${name}`);
    } catch (error) {
      failed = true;
      console.log(`FAILED ${name}: ${error.stack || error}`);
      for (const context of browser.contexts()) {
        for (const page of context.pages()) {
          const index = context.pages().indexOf(page);
          await page.screenshot({
            path: path.join(options.out, `${name}-failure-${browser.contexts().indexOf(context)}-${index}.png`),
            fullPage: true,
          }).catch(() => {});
        }
      }
    } finally {
      for (const context of browser.contexts()) await context.close();
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
