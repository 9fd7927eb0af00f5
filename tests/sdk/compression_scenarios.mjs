// permessage-deflate with Node's ws (which offers it by default) and the
// centrifuge SDK on it, against a Herald with compression = true:
// node compression_scenarios.mjs PORT SECRET API_KEY [NAME...]. Prints
// `ok NAME` or `FAILED NAME: why` per scenario; exits 0 when all passed.
import centJs from 'cent.js';
import {
  check, client, httpBase, once, runScenarios, waitFor, webSocket, wsBase,
} from './scenarios.mjs';

const { CentClient } = centJs;
const apiKey = process.argv[4];
const cent = new CentClient({ url: `${httpBase}/api`, apiKey });

// JSON that compresses well, as real publications do; `size` characters.
function largeText(size) {
  let text = '';
  for (let i = 0; text.length < size; i += 1) {
    text += `{"symbol":"EURUSD","bid":1.08${i % 100},"ask":1.08${(i + 2) % 100}} `;
  }
  return text.slice(0, size);
}

// ws negotiates the extension, compresses its large message (ws's own
// threshold is 1 KiB) and inflates Herald's compressed echo.
async function wsNegotiatesAndRoundTrips() {
  const ws = webSocket(`${wsBase}/ws`);
  await once(ws, 'open');
  check(ws.extensions.startsWith('permessage-deflate'), `negotiated "${ws.extensions}"`);
  for (const size of [100, 4000, 40000]) {
    const text = largeText(size);
    const echoed = once(ws, 'message');
    ws.send(JSON.stringify({ message: text }));
    const data = (await echoed).toString();
    check(JSON.parse(data).message === text, `echo of ${size} characters differs`);
  }
}

// Two SDK clients: a large publication through the client protocol, from
// one (compressed by ws) to the other (compressed once by Herald), and one
// from cent.js through the server API.
async function sdkLargePublications() {
  const a = client();
  const b = client();
  a.connect();
  b.connect();
  await Promise.all([once(a, 'connected'), once(b, 'connected')]);
  const subA = a.newSubscription('bulk');
  const subB = b.newSubscription('bulk');
  subA.subscribe();
  subB.subscribe();
  await Promise.all([once(subA, 'subscribed'), once(subB, 'subscribed')]);
  const seen = [];
  subB.on('publication', (ctx) => seen.push(ctx.data));
  const fromClient = { text: largeText(20000) };
  await subA.publish(fromClient);
  const fromApi = { text: largeText(30000), from: 'cent.js' };
  await cent.publish({ channel: 'bulk', data: fromApi });
  await waitFor(() => seen.length === 2, 'both publications');
  check(JSON.stringify(seen[0]) === JSON.stringify(fromClient), 'the SDK publication differs');
  check(JSON.stringify(seen[1]) === JSON.stringify(fromApi), 'the cent.js publication differs');
}

// A client that declines the extension gets the same publication plain.
async function plainClientBeside() {
  const { default: WebSocket } = await import('ws');
  const plain = new WebSocket(`${wsBase}/ws`, { perMessageDeflate: false });
  plain.on('error', () => {});
  const zipped = webSocket(`${wsBase}/ws`);
  await Promise.all([once(plain, 'open'), once(zipped, 'open')]);
  try {
    check(plain.extensions === '', `the plain client negotiated "${plain.extensions}"`);
    const text = largeText(5000);
    const got = [once(plain, 'message'), once(zipped, 'message')];
    zipped.send(JSON.stringify({ message: text }));
    for (const data of await Promise.all(got)) {
      check(JSON.parse(data.toString()).message === text, 'a client got it different');
    }
  } finally {
    plain.terminate();
  }
}

await runScenarios({ wsNegotiatesAndRoundTrips, sdkLargePublications, plainClientBeside },
                   process.argv.slice(5));
