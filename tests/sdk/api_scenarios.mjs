// Scenarios with the centrifuge SDK and Centrifugo's server API client
// (npm cent.js 6.1.0) against a running Herald that has presence, join/leave,
// history and an API key: node api_scenarios.mjs PORT SECRET API_KEY [NAME...].
// Prints `ok NAME` or `FAILED NAME: why` per scenario; exits 0 when all
// passed. restartRecovery prints `restart` and expects the test driver to
// restart the server on the same port; it is run on its own.
import centJs from 'cent.js';
import {
  check, client, httpBase, once, runScenarios, token, waitFor, webSocket, wsBase,
} from './scenarios.mjs';

const { CentClient, CentException } = centJs;
const [port, secret, apiKey] = process.argv.slice(2);
const cent = new CentClient({ url: `${httpBase}/api`, apiKey });

function userClient(user, claims = {}, options = {}) {
  return client({ token: token({ sub: user, ...claims }, secret), ...options });
}

async function connected(...clients) {
  const contexts = await Promise.all(clients.map((c) => {
    const ready = once(c, 'connected');
    c.connect();
    return ready;
  }));
  return contexts.map((ctx) => ctx.client);
}

async function subscribed(c, channel, options = {}) {
  const sub = c.newSubscription(channel, options);
  const ready = once(sub, 'subscribed');
  sub.subscribe();
  await ready;
  return sub;
}

function collect(emitter, event) {
  const seen = [];
  emitter.on(event, (ctx) => seen.push(ctx));
  return seen;
}

async function rejects(promise, what) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`${what} did not fail`);
}

// presence, presenceStats, and join/leave events between SDK clients.
async function presenceJoinLeave() {
  const a = userClient('ann', { info: { name: 'Ann' } });
  const b = userClient('bob');
  const c = userClient('cid');
  const [aId, bId, cId] = await connected(a, b, c);
  const subA = a.newSubscription('sdk-room', { joinLeave: true });
  const joins = collect(subA, 'join');
  const leaves = collect(subA, 'leave');
  const aReady = once(subA, 'subscribed');
  subA.subscribe();
  await aReady;
  // its own join
  await waitFor(() => joins.length === 1, 'the join of A');
  check(joins[0].channel === 'sdk-room' && joins[0].info.client === aId &&
        joins[0].info.user === 'ann' && joins[0].info.connInfo.name === 'Ann',
        `A's own join ${JSON.stringify(joins[0])}`);
  const subB = await subscribed(b, 'sdk-room', { joinLeave: true });
  const subC = await subscribed(c, 'sdk-room');
  await waitFor(() => joins.length === 3, 'the joins of B and C');
  check(joins[1].info.client === bId && joins[1].info.user === 'bob' &&
        joins[1].info.connInfo === undefined, `B's join ${JSON.stringify(joins[1])}`);
  check(joins[2].info.client === cId && joins[2].info.user === 'cid',
        `C's join ${JSON.stringify(joins[2])}`);

  const presence = await subB.presence();
  const ids = Object.keys(presence.clients).sort();
  check(JSON.stringify(ids) === JSON.stringify([aId, bId, cId].sort()),
        `presence ${JSON.stringify(presence)}`);
  check(presence.clients[aId].user === 'ann' && presence.clients[aId].connInfo.name === 'Ann',
        `A in presence ${JSON.stringify(presence.clients[aId])}`);
  check(presence.clients[bId].user === 'bob', `B in presence ${JSON.stringify(presence)}`);
  const stats = await subC.presenceStats();
  check(stats.numClients === 3 && stats.numUsers === 3, `stats ${JSON.stringify(stats)}`);

  // leave on unsubscribe, and on disconnect
  subB.unsubscribe();
  await waitFor(() => leaves.length === 1, 'the leave of B');
  check(leaves[0].info.client === bId && leaves[0].info.user === 'bob',
        `B's leave ${JSON.stringify(leaves[0])}`);
  c.disconnect();
  await waitFor(() => leaves.length === 2, 'the leave of C');
  check(leaves[1].info.client === cId, `C's leave ${JSON.stringify(leaves[1])}`);
  const after = await subA.presenceStats();
  check(after.numClients === 1 && after.numUsers === 1, `stats after ${JSON.stringify(after)}`);
  check(joins.length === 3 && leaves.length === 2, 'no extra join or leave');
}

// cent.js publish and broadcast reach SDK subscribers and /ws clients on the
// seed channel.
async function centPublish() {
  const c = client();
  await connected(c);
  const seed = await subscribed(c, 'broadcast');
  const news = await subscribed(c, 'sdk-news');
  const fromSeed = collect(seed, 'publication');
  const fromNews = collect(news, 'publication');
  const ws = webSocket(`${wsBase}/ws`);
  await once(ws, 'open');
  const frames = [];
  ws.on('message', (data) => frames.push(data.toString()));

  const result = await cent.publish({ channel: 'broadcast', data: { message: 'from cent' } });
  check(Number.isInteger(result.offset) && result.offset >= 1 && typeof result.epoch === 'string' &&
        result.epoch.length > 0, `publish result ${JSON.stringify(result)}`);
  await waitFor(() => fromSeed.length === 1 && frames.length === 1, 'the publication');
  check(fromSeed[0].data.message === 'from cent' && fromSeed[0].offset === result.offset,
        `SDK got ${JSON.stringify(fromSeed[0])}`);
  check(frames[0] === '{"message":"from cent"}', `/ws got ${frames[0]}`);

  const news1 = await cent.publish({ channel: 'sdk-news', data: { n: 1 } });
  check(news1.offset === 1, `news publish ${JSON.stringify(news1)}`);
  await waitFor(() => fromNews.length === 1, 'the news publication');
  check(fromNews[0].data.n === 1 && fromNews[0].offset === 1, JSON.stringify(fromNews[0]));

  const both = await cent.broadcast({ channels: ['sdk-news', 'broadcast'],
                                      data: { message: 'to both' } });
  check(both.responses.length === 2 && both.responses.every((r) => r.result.offset >= 1),
        `broadcast ${JSON.stringify(both)}`);
  await waitFor(() => fromNews.length === 2 && fromSeed.length === 2 && frames.length === 2,
                'the broadcast');
  check(fromNews[1].data.message === 'to both' && fromSeed[1].data.message === 'to both' &&
        frames[1] === '{"message":"to both"}', `broadcast got ${frames[1]}`);

  // errors: a CentException for an error result, a rejection for a wrong key
  const unknown = await rejects(cent.publish({ channel: 'nowhere:x', data: 1 }),
                                'publish to an unknown namespace');
  check(unknown instanceof CentException, `unknown namespace: ${unknown}`);
  const wrongKey = new CentClient({ url: `${httpBase}/api`, apiKey: 'wrong' });
  await rejects(wrongKey.publish({ channel: 'sdk-news', data: { n: 'never' } }),
                'publish with a wrong key');
  await new Promise((resolve) => setTimeout(resolve, 200));
  check(fromNews.length === 2, `a refused publish arrived: ${JSON.stringify(fromNews)}`);
}

// cent.js unsubscribe and disconnect reach the SDK.
async function centUnsubscribeDisconnect() {
  const c = userClient('sdk-unsub');
  const other = userClient('sdk-other');
  await connected(c, other);
  const sub = await subscribed(c, 'sdk-unsub');
  const otherSub = await subscribed(other, 'sdk-unsub');
  const received = collect(sub, 'publication');
  const otherReceived = collect(otherSub, 'publication');

  const unsubscribed = once(sub, 'unsubscribed');
  check(JSON.stringify(await cent.unsubscribe({ channel: 'sdk-unsub', user: 'sdk-unsub' })) ===
        '{}', 'unsubscribe result');
  const ctx = await unsubscribed;
  check(ctx.code === 2000 && ctx.reason === 'server unsubscribe', `unsubscribed ${JSON.stringify(ctx)}`);
  await cent.publish({ channel: 'sdk-unsub', data: { n: 1 } });
  await waitFor(() => otherReceived.length === 1, 'the other subscriber');
  check(received.length === 0, 'a publication after the server unsubscribe');
  // it can subscribe again
  const again = once(sub, 'subscribed');
  sub.subscribe();
  await again;
  await cent.publish({ channel: 'sdk-unsub', data: { n: 2 } });
  await waitFor(() => received.length === 1, 'the publication after subscribing again');

  const disconnected = once(c, 'disconnected');
  check(JSON.stringify(await cent.disconnect({ user: 'sdk-unsub' })) === '{}', 'disconnect result');
  const closed = await disconnected;
  check(closed.code === 3503 && closed.reason === 'force disconnect',
        `disconnected ${JSON.stringify(closed)}`);
  check(other.state === 'connected', `the other client is ${other.state}`);
  await cent.publish({ channel: 'sdk-unsub', data: { n: 3 } });
  await waitFor(() => otherReceived.length === 3, 'the other subscriber after the disconnect');
}

// cent.js history, presence, channels and info return what SDK clients did.
async function centQueries() {
  const a = userClient('q-a');
  const b = userClient('q-b');
  const [aId, bId] = await connected(a, b);
  const subA = await subscribed(a, 'sdk-q-hist');
  const subB = await subscribed(b, 'sdk-q-hist');
  await subscribed(b, 'sdk-q-other');
  const echoed = collect(subB, 'publication');
  for (let n = 1; n <= 3; n += 1) {
    await subA.publish({ n });
  }
  // the publications are in history once they came back to a subscriber
  await waitFor(() => echoed.length === 3, 'the three publications');

  const history = await cent.getHistory({ channel: 'sdk-q-hist', limit: -1 });
  check(JSON.stringify(history.publications.map((p) => p.data.n)) === '[1,2,3]' &&
        history.offset === 3 && history.epoch.length > 0, `history ${JSON.stringify(history)}`);
  const sdkHistory = await subA.history({ limit: -1 });
  check(sdkHistory.publications.length === 3 && sdkHistory.epoch === history.epoch,
        `SDK history ${JSON.stringify(sdkHistory)}`);

  const presence = await cent.getPresence({ channel: 'sdk-q-hist' });
  check(JSON.stringify(Object.keys(presence.presence).sort()) === JSON.stringify([aId, bId].sort()),
        `presence ${JSON.stringify(presence)}`);
  check(presence.presence[aId].user === 'q-a' && presence.presence[bId].user === 'q-b',
        `presence users ${JSON.stringify(presence)}`);
  const stats = await cent.getPresenceStats({ channel: 'sdk-q-hist' });
  check(stats.num_clients === 2 && stats.num_users === 2, `stats ${JSON.stringify(stats)}`);

  const channels = await cent.getChannels({ pattern: 'sdk-q-*' });
  check(JSON.stringify(channels) === JSON.stringify({ channels: {
    'sdk-q-hist': { num_clients: 2 }, 'sdk-q-other': { num_clients: 1 } } }) ||
        JSON.stringify(channels) === JSON.stringify({ channels: {
          'sdk-q-other': { num_clients: 1 }, 'sdk-q-hist': { num_clients: 2 } } }),
        `channels ${JSON.stringify(channels)}`);
  const info = await cent.getInfo();
  check(info.nodes.length === 1 && info.nodes[0].num_clients >= 2 &&
        info.nodes[0].num_channels >= 2, `info ${JSON.stringify(info)}`);

  check(JSON.stringify(await cent.removeHistory({ channel: 'sdk-q-hist' })) === '{}',
        'history_remove result');
  const removed = await cent.getHistory({ channel: 'sdk-q-hist', limit: -1 });
  check(removed.publications.length === 0 && removed.offset === 3 &&
        removed.epoch === history.epoch, `history after remove ${JSON.stringify(removed)}`);
  const sdkRemoved = await subB.history({ limit: -1 });
  check(sdkRemoved.publications.length === 0 && sdkRemoved.offset === 3,
        `SDK history after remove ${JSON.stringify(sdkRemoved)}`);
}

// A $ channel needs a channel token: refused with 103 without one, let in
// with getToken.
async function privateChannel() {
  const c = userClient('pat');
  await connected(c);
  const refused = c.newSubscription('$sdk-private');
  const unsubscribed = once(refused, 'unsubscribed');
  refused.subscribe();
  const ctx = await unsubscribed;
  check(ctx.code === 103 && ctx.reason === 'permission denied', `unsubscribed ${JSON.stringify(ctx)}`);
  c.removeSubscription(refused);

  let asked = 0;
  const sub = c.newSubscription('$sdk-private', {
    getToken: async (request) => {
      asked += 1;
      return token({ sub: 'pat', channel: request.channel,
                     exp: Math.floor(Date.now() / 1000) + 600 }, secret);
    },
  });
  const ready = once(sub, 'subscribed');
  sub.subscribe();
  await ready;
  check(asked === 1, `getToken called ${asked} times`);
  const received = collect(sub, 'publication');
  await cent.publish({ channel: '$sdk-private', data: { secret: true } });
  await waitFor(() => received.length === 1, 'the private publication');
  check(received[0].data.secret === true, JSON.stringify(received[0]));
}

// The SDK reconnects to a restarted server by itself and resubscribes with
// its stream position: a new epoch, so recovered is false.
async function restartRecovery() {
  const c = client({ maxReconnectDelay: 300 });
  await connected(c);
  const sub = c.newSubscription('sdk-restart', { recoverable: true });
  const contexts = collect(sub, 'subscribed');
  const received = collect(sub, 'publication');
  sub.subscribe();
  await waitFor(() => contexts.length === 1, 'the first subscribe');
  check(contexts[0].recoverable === true, `first subscribe ${JSON.stringify(contexts[0])}`);
  for (let n = 1; n <= 3; n += 1) {
    await cent.publish({ channel: 'sdk-restart', data: { n } });
  }
  await waitFor(() => received.length === 3, 'three publications');
  const before = contexts[0].streamPosition;
  console.log('restart');
  await waitFor(() => contexts.length === 2, 'the resubscribe after the restart', 15000);
  const ctx = contexts[1];
  check(ctx.wasRecovering === true && ctx.recovered === false,
        `resubscribe ${JSON.stringify(ctx)}`);
  check(ctx.streamPosition.epoch !== before.epoch, `epoch kept ${JSON.stringify(ctx)}`);
  check(received.length === 3, `publications recovered from nowhere: ${received.length}`);
  await cent.publish({ channel: 'sdk-restart', data: { n: 4 } });
  await waitFor(() => received.length === 4, 'a publication after the restart');
  check(received[3].data.n === 4, JSON.stringify(received[3]));
}

// cent.js's pipeline(): several commands in one request to the legacy
// POST /api, one result per command, in order.
async function centPipeline() {
  const a = userClient('pipe-a');
  await connected(a);
  const sub = await subscribed(a, 'sdk-pipe');
  const received = collect(sub, 'publication');
  const results = await cent.pipeline([
    { method: 'publish', params: { channel: 'sdk-pipe', data: { n: 1 } } },
    { method: 'publish', params: { channel: 'sdk-pipe', data: { n: 2 } } },
    { method: 'presence_stats', params: { channel: 'sdk-pipe' } },
  ]);
  check(results.length === 3 && results[1].offset === results[0].offset + 1 &&
        results[2].num_clients === 1, `pipeline ${JSON.stringify(results)}`);
  await waitFor(() => received.length === 2, 'both publications of the pipeline');
  check(received[0].data.n === 1 && received[1].data.n === 2, JSON.stringify(received));
}

// A server-side subscription (the connect token's `channels`) in a
// force-recovery namespace: the SDK reports it subscribed with a position,
// and after a reconnect (its connect carries the position in `subs`) gets
// exactly what it missed, on the Centrifuge object itself.
async function serverSideRecovery() {
  const c = userClient('srv-reader', { channels: ['srv:feed'] });
  const received = [];
  c.on('publication', (ctx) => {
    if (ctx.channel === 'srv:feed') {
      received.push(ctx.data.n);
    }
  });
  const first = once(c, 'subscribed');
  c.connect();
  const subscribed = await first;
  check(subscribed.channel === 'srv:feed' && subscribed.recoverable && subscribed.positioned,
        `first server-side subscribe ${JSON.stringify(subscribed)}`);
  await cent.publish({ channel: 'srv:feed', data: { n: 0 } });
  await waitFor(() => received.length === 1, 'the first publication');
  c.disconnect();
  for (let n = 1; n <= 5; n += 1) {
    await cent.publish({ channel: 'srv:feed', data: { n } });
  }
  const again = once(c, 'subscribed');
  c.connect();
  const ctx = await again;
  check(ctx.wasRecovering && ctx.recovered, `resubscribe ${JSON.stringify(ctx)}`);
  await waitFor(() => received.length === 6, 'the five missed publications');
  check(JSON.stringify(received) === '[0,1,2,3,4,5]', JSON.stringify(received));
}

const wanted = process.argv.slice(5);
await runScenarios(
  { presenceJoinLeave, centPublish, centUnsubscribeDisconnect, centQueries, centPipeline,
    privateChannel, serverSideRecovery, restartRecovery },
  wanted.length > 0 ? wanted
    : ['presenceJoinLeave', 'centPublish', 'centUnsubscribeDisconnect', 'centQueries',
       'centPipeline', 'privateChannel', 'serverSideRecovery'],
  30000);
