// End-to-end scenarios with the official centrifuge SDK (5.x on Node with
// ws) against a running Herald: node scenarios.mjs PORT SECRET [NAME...].
// Exits 0 when every scenario (or every NAME) passed, 1 with the failing
// one's message otherwise. Each scenario has its own time limit, and every
// client it opened is closed after it, passed or not. The helpers are
// exported for api_scenarios.mjs.
import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';

const [port, secret] = process.argv.slice(2);
// HERALD_TEST_TLS=1: the server speaks TLS, and NODE_EXTRA_CA_CERTS names
// the root that signed its certificate.
const secure = process.env.HERALD_TEST_TLS === '1';
export const wsBase = `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}`;
export const httpBase = `${secure ? 'https' : 'http'}://127.0.0.1:${port}`;
const url = `${wsBase}/connection/websocket`;

export function token(claims, key = secret) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

// What the running scenario opened, closed by runScenarios after it.
const opened = [];

export function client(options = {}, endpoint = url) {
  const c = new Centrifuge(endpoint, { websocket: WebSocket, minReconnectDelay: 50, ...options });
  opened.push(() => c.disconnect());
  return c;
}

// A plain WebSocket client (e.g. on /ws), closed after the scenario too.
export function webSocket(address) {
  const ws = new WebSocket(address);
  ws.on('error', () => {});
  opened.push(() => ws.terminate());
  return ws;
}

export function once(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (ctx) => {
      clearTimeout(timer);
      resolve(ctx);
    });
  });
}

export function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

async function anonymousPubSub() {
  const a = client();
  const b = client();
  a.connect();
  b.connect();
  await Promise.all([once(a, 'connected'), once(b, 'connected')]);
  const subA = a.newSubscription('chat');
  const subB = b.newSubscription('chat');
  subA.subscribe();
  subB.subscribe();
  await Promise.all([once(subA, 'subscribed'), once(subB, 'subscribed')]);
  const received = once(subB, 'publication');
  await subA.publish({ text: 'hello' });
  const publication = await received;
  check(publication.data.text === 'hello', `B got ${JSON.stringify(publication.data)}`);
  a.disconnect();
  b.disconnect();
}

async function seedChannelBridge() {
  const c = client();
  c.connect();
  await once(c, 'connected');
  const sub = c.newSubscription('broadcast');
  sub.subscribe();
  await once(sub, 'subscribed');
  const ws = webSocket(`${wsBase}/ws`);
  await once(ws, 'open');
  const fromWs = once(sub, 'publication');
  const echo = once(ws, 'message');  // a /ws client gets its own message too
  ws.send(JSON.stringify({ message: 'from /ws' }));
  const publication = await fromWs;
  await echo;
  check(publication.data.message === 'from /ws', `got ${JSON.stringify(publication.data)}`);
  const toWs = once(ws, 'message');
  await sub.publish({ message: 'from the SDK' });
  const frame = JSON.parse((await toWs).toString());
  check(frame.message === 'from the SDK', `/ws got ${JSON.stringify(frame)}`);
  ws.close();
  c.disconnect();
}

async function tokenConnect() {
  const now = Math.floor(Date.now() / 1000);
  const good = client({ token: token({ sub: '42', exp: now + 3600 }) });
  good.connect();
  const ctx = await once(good, 'connected');
  check(ctx.client.length === 36, `client id ${ctx.client}`);
  good.disconnect();

  // An expired token: error 109 makes the SDK ask getToken for a new one.
  let asked = 0;
  const refreshing = client({
    token: token({ sub: '42', exp: now - 10 }),
    getToken: async () => {
      asked += 1;
      return token({ sub: '42', exp: now + 3600 });
    },
  });
  refreshing.connect();
  await once(refreshing, 'connected');
  check(asked === 1, `getToken called ${asked} times`);
  refreshing.disconnect();

  // A bad signature: disconnected with 3500, no reconnect.
  const bad = client({ token: token({ sub: '42' }, 'wrong secret') });
  bad.connect();
  const disconnected = await once(bad, 'disconnected');
  check(disconnected.code === 3500, `disconnect code ${disconnected.code}`);
}

// The server keeps history (history-size and history-ttl set): a subscriber
// whose connection is gone while 50 are published gets exactly those 50,
// in order, with recovered = true, when it comes back.
async function recovery() {
  const reader = client();
  reader.connect();
  await once(reader, 'connected');
  // recoverable: the client asks for recovery, which allow-recovery grants.
  const sub = reader.newSubscription('feed', { recoverable: true });
  const received = [];
  sub.on('publication', (ctx) => received.push(ctx.data.n));
  sub.subscribe();
  const first = await once(sub, 'subscribed');
  check(first.recoverable === true, `first subscribe ${JSON.stringify(first)}`);
  const writer = client();
  writer.connect();
  await once(writer, 'connected');
  const wsub = writer.newSubscription('feed');
  let echoed = 0;
  wsub.on('publication', () => { echoed += 1; });
  wsub.subscribe();
  await once(wsub, 'subscribed');
  await wsub.publish({ n: 0 });
  await waitFor(() => received.length === 1, 'the first publication');
  reader.disconnect();
  for (let n = 1; n <= 50; n += 1) {
    await wsub.publish({ n });
  }
  // A publish reply means accepted, not yet in history: the writer, a
  // subscriber too, seeing all 51 come back means the broadcaster has them.
  await waitFor(() => echoed === 51, 'the writer to see its 51 publications');
  const resubscribed = once(sub, 'subscribed');
  reader.connect();
  const ctx = await resubscribed;
  check(ctx.wasRecovering === true && ctx.recovered === true,
        `resubscribe ${JSON.stringify(ctx)}`);
  await waitFor(() => received.length === 51, 'the 50 missed publications');
  check(received.every((n, i) => n === i), `received ${received.join(',')}`);
  reader.disconnect();
  writer.disconnect();
}

export async function waitFor(condition, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function withTimeout(promise, ms, name) {
  let timer;
  const limit = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// Runs the scenarios named in `wanted` (all when it is empty), each within
// `ms`; prints `ok NAME` or `FAILED NAME: why`, then exits 0 if all passed,
// 1 otherwise.
export async function runScenarios(scenarios, wanted, ms = 20000) {
  let failed = false;
  for (const name of wanted) {
    if (!(name in scenarios)) {
      console.log(`FAILED ${name}: no such scenario`);
      failed = true;
    }
  }
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (wanted.length > 0 && !wanted.includes(name)) {
      continue;
    }
    try {
      await withTimeout(scenario(), ms, name);
      console.log(`ok ${name}`);
    } catch (error) {
      failed = true;
      console.log(`FAILED ${name}: ${error.message}`);
    }
    for (const close of opened.splice(0)) {
      try {
        close();
      } catch (error) {
        // already closed
      }
    }
  }
  process.exit(failed ? 1 : 0);
}

const scenarios = { anonymousPubSub, seedChannelBridge, tokenConnect, recovery };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runScenarios(scenarios, process.argv.slice(4));
}
