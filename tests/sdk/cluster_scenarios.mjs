// Scenarios with the centrifuge SDK and cent.js against a cluster of Herald
// nodes on the Redis engine (tests/integration/test_cluster.py starts them):
//   node cluster_scenarios.mjs PORT_A SECRET API_KEY PORT_B PORT_C NAME...
// Prints `ok NAME` or `FAILED NAME: why` per scenario; exits 0 when all
// passed. redisOutage talks with its driver: it prints `kill-redis` and waits
// for `killed` on stdin, then prints `restart-redis` and waits for `up` (the
// driver answers once every node reports herald_engine_up 1).
import net from 'node:net';
import readline from 'node:readline';
import centJs from 'cent.js';
import { check, client, once, runScenarios, waitFor } from './scenarios.mjs';

const { CentClient } = centJs;
const [portA, , apiKey, portB, portC] = process.argv.slice(2);
const endpoint = (port) => `ws://127.0.0.1:${port}/connection/websocket`;
const cent = (port) => new CentClient({ url: `http://127.0.0.1:${port}/api`, apiKey });

function collect(emitter, event) {
  const seen = [];
  emitter.on(event, (ctx) => seen.push(ctx));
  return seen;
}

// Waits for the subscription's `count`th 'subscribed'; a timeout names the
// errors it had meanwhile (e.g. a subscribe the server refused).
async function subscribedTimes(sub, contexts, count, what, ms = 5000) {
  const errors = [];
  const onError = (ctx) => errors.push(ctx);
  sub.on('error', onError);
  try {
    await waitFor(() => contexts.length >= count, what, ms);
  } catch (error) {
    throw new Error(`${error.message}; ${errors.length} subscription errors, the first: ` +
                    JSON.stringify(errors.slice(0, 1)));
  } finally {
    sub.removeListener('error', onError);
  }
  check(contexts.length === count, `${contexts.length} subscribes, not ${count}`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Lines from the driver on stdin, one at a time.
const input = readline.createInterface({ input: process.stdin });
const lines = [];
const waiting = [];
input.on('line', (line) => {
  const next = waiting.shift();
  if (next) {
    next(line.trim());
  } else {
    lines.push(line.trim());
  }
});

async function fromDriver(expected, ms = 30000) {
  const line = lines.length > 0 ? lines.shift() : await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${expected}' from the driver`)), ms);
    waiting.push((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
  check(line === expected, `the driver said '${line}', not '${expected}'`);
}

// A TCP switch in front of the nodes, as a load balancer would be: new
// connections go to `target` (refused while it is null), and cut() drops
// every connection it carries.
async function tcpSwitch(target) {
  const sockets = new Set();
  const sw = { target, port: 0, targets: [] };
  const server = net.createServer((inbound) => {
    if (sw.target === null) {
      inbound.destroy();
      return;
    }
    sw.targets.push(sw.target);
    const outbound = net.connect(sw.target, '127.0.0.1');
    for (const [a, b] of [[inbound, outbound], [outbound, inbound]]) {
      sockets.add(a);
      a.on('error', () => {});
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  sw.port = server.address().port;
  sw.cut = () => {
    sw.target = null;
    for (const socket of sockets) {
      socket.destroy();
    }
  };
  sw.close = () => {
    sw.cut();
    server.close();
  };
  return sw;
}

// A subscriber on node A (behind a switch) loses its connection; 20
// publications are made through node C's API meanwhile; the SDK reconnects
// by itself, now to node B, and recovers exactly those 20, in order, from the
// history in Redis: recovered, same epoch, no duplicate. Then it keeps
// receiving, from a publication made on node A.
async function crossNodeRecovery() {
  const lb = await tcpSwitch(Number(portA));
  try {
    const c = client({ maxReconnectDelay: 200 }, endpoint(lb.port));
    const sub = c.newSubscription('feed', { recoverable: true });
    const contexts = collect(sub, 'subscribed');
    const received = collect(sub, 'publication');
    const ready = once(c, 'connected');
    c.connect();
    await ready;
    sub.subscribe();
    await subscribedTimes(sub, contexts, 1, 'the first subscribe');
    const first = contexts[0];
    check(first.recoverable === true && first.positioned === true &&
          first.streamPosition.offset === 0 && first.streamPosition.epoch.length > 0,
          `first subscribe ${JSON.stringify(first)}`);
    const apiC = cent(portC);
    for (let n = 1; n <= 3; n += 1) {
      const result = await apiC.publish({ channel: 'feed', data: { n } });
      check(result.offset === n && result.epoch === first.streamPosition.epoch,
            `publish ${n}: ${JSON.stringify(result)}`);
    }
    await waitFor(() => received.length === 3, 'three publications on node A');

    const connecting = once(c, 'connecting');
    lb.cut();  // node A's connection is gone, and no new one gets through
    await connecting;
    for (let n = 4; n <= 23; n += 1) {
      const result = await apiC.publish({ channel: 'feed', data: { n } });
      check(result.offset === n, `publish ${n}: ${JSON.stringify(result)}`);
    }
    const reconnected = once(c, 'connected', 10000);
    lb.target = Number(portB);
    await reconnected;
    await subscribedTimes(sub, contexts, 2, 'the resubscribe on node B', 10000);
    const ctx = contexts[1];
    check(ctx.wasRecovering === true && ctx.recovered === true,
          `resubscribe ${JSON.stringify(ctx)}`);
    check(ctx.streamPosition.epoch === first.streamPosition.epoch,
          `epoch changed: ${JSON.stringify(ctx)} after ${JSON.stringify(first)}`);
    await waitFor(() => received.length === 23, 'the 20 missed publications');
    await sleep(300);  // nothing more may come
    check(JSON.stringify(received.map((p) => p.data.n)) ===
          JSON.stringify(Array.from({ length: 23 }, (_, i) => i + 1)),
          `received ${received.map((p) => p.data.n).join(',')}`);
    check(received.every((p, i) => p.offset === i + 1),
          `offsets ${received.map((p) => p.offset).join(',')}`);
    check(JSON.stringify(lb.targets) === JSON.stringify([Number(portA), Number(portB)]),
          `connections went to ${lb.targets}`);

    // Live again, on node B, for a publication from node A's API.
    const result = await cent(portA).publish({ channel: 'feed', data: { n: 24 } });
    check(result.offset === 24, `publish 24: ${JSON.stringify(result)}`);
    await waitFor(() => received.length === 24, 'a publication after the recovery');
    check(received[23].data.n === 24 && received[23].offset === 24,
          JSON.stringify(received[23]));
    c.disconnect();
  } finally {
    lb.close();
  }
}

// A client that left node A subscribes on node C from the position it had
// (`since`): it gets what was published meanwhile, through node B's API.
async function sinceOnAnotherNode() {
  const a = client({}, endpoint(portA));
  const sub = a.newSubscription('since-feed', { recoverable: true });
  const contexts = collect(sub, 'subscribed');
  const received = collect(sub, 'publication');
  const ready = once(a, 'connected');
  a.connect();
  await ready;
  sub.subscribe();
  await subscribedTimes(sub, contexts, 1, 'the first subscribe');
  const apiB = cent(portB);
  for (let n = 1; n <= 2; n += 1) {
    await apiB.publish({ channel: 'since-feed', data: { n } });
  }
  await waitFor(() => received.length === 2, 'two publications');
  const position = { offset: received[1].offset, epoch: contexts[0].streamPosition.epoch };
  check(position.offset === 2, `position ${JSON.stringify(position)}`);
  a.disconnect();
  for (let n = 3; n <= 7; n += 1) {
    await apiB.publish({ channel: 'since-feed', data: { n } });
  }

  const c = client({}, endpoint(portC));
  const later = c.newSubscription('since-feed', { recoverable: true, since: position });
  const laterContexts = collect(later, 'subscribed');
  const laterReceived = collect(later, 'publication');
  const connected = once(c, 'connected');
  c.connect();
  await connected;
  later.subscribe();
  await subscribedTimes(later, laterContexts, 1, 'the subscribe on node C');
  const ctx = laterContexts[0];
  check(ctx.wasRecovering === true && ctx.recovered === true &&
        ctx.streamPosition.epoch === position.epoch, `subscribe ${JSON.stringify(ctx)}`);
  await waitFor(() => laterReceived.length === 5, 'the five missed publications');
  await sleep(200);
  check(JSON.stringify(laterReceived.map((p) => [p.data.n, p.offset])) ===
        '[[3,3],[4,4],[5,5],[6,6],[7,7]]',
        `received ${JSON.stringify(laterReceived.map((p) => p.data))}`);
  c.disconnect();
}

// Redis is killed under a positioned subscription on node A: the SDK is told
// (unsubscribe 2500, so it goes back to subscribing), its resubscribes get
// the temporary error 100 and are retried, and its connection stays up. Once
// Redis is back (empty: nothing was saved) it is subscribed again, told that
// the stream is a new one, and receives new publications from node B's API.
async function redisOutage() {
  const c = client({ maxReconnectDelay: 300 }, endpoint(portA));
  const ready = once(c, 'connected');
  c.connect();
  await ready;
  const connecting = collect(c, 'connecting');
  const disconnected = collect(c, 'disconnected');
  const sub = c.newSubscription('outage', { recoverable: true, minResubscribeDelay: 100,
                                            maxResubscribeDelay: 400 });
  const contexts = collect(sub, 'subscribed');
  const subscribing = collect(sub, 'subscribing');
  const errors = collect(sub, 'error');
  const received = collect(sub, 'publication');
  sub.subscribe();
  await subscribedTimes(sub, contexts, 1, 'the first subscribe');
  const first = contexts[0];
  check(first.recoverable === true && first.positioned === true, JSON.stringify(first));
  const apiB = cent(portB);
  await apiB.publish({ channel: 'outage', data: { n: 1 } });
  await waitFor(() => received.length === 1, 'a publication before the outage');

  console.log('kill-redis');
  await fromDriver('killed');
  await waitFor(() => subscribing.length >= 2, 'the unsubscribe push of the outage', 10000);
  // [0] is the first subscribe()'s own; [1] the server's push.
  check(subscribing[1].code === 2500 && subscribing[1].reason === 'insufficient state',
        `subscribing ${JSON.stringify(subscribing[1])}`);
  await waitFor(() => errors.length >= 1, 'a refused resubscribe', 10000);
  check(errors[0].type === 'subscribe' && errors[0].error.code === 100 &&
        errors[0].error.temporary === true, `error ${JSON.stringify(errors[0])}`);
  check(sub.state === 'subscribing', `subscription ${sub.state} while Redis is down`);

  console.log('restart-redis');
  await fromDriver('up');
  await waitFor(() => contexts.length === 2, 'the resubscribe after Redis returned', 15000);
  const ctx = contexts[1];
  check(ctx.wasRecovering === true && ctx.recovered === false && ctx.recoverable === true &&
        ctx.streamPosition.epoch !== first.streamPosition.epoch,
        `resubscribe ${JSON.stringify(ctx)} after ${JSON.stringify(first)}`);
  const result = await apiB.publish({ channel: 'outage', data: { n: 2 } });
  check(result.offset === 1 && result.epoch === ctx.streamPosition.epoch,
        `publish after the outage ${JSON.stringify(result)}`);
  await waitFor(() => received.length === 2, 'a publication after the outage');
  check(received[1].data.n === 2 && received[1].offset === 1, JSON.stringify(received[1]));
  check(connecting.length === 0 && disconnected.length === 0 && c.state === 'connected',
        `the connection moved: ${JSON.stringify({ connecting, disconnected })}`);
  c.disconnect();
}

await runScenarios({ crossNodeRecovery, sinceOnAnotherNode, redisOutage },
                   process.argv.slice(7), 40000);
