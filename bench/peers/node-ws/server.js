'use strict';
// Broadcast server on ws@8 (pinned in package.json / package-lock.json), a
// peer for Herald's benchmarks. It is the "broadcast to all connected
// clients, including itself" example from the ws README, bound to
// 127.0.0.1:PORT on path /ws: every message received is sent back unchanged
// (same bytes, same frame type: text stays text) to every OPEN client.
// No bufferutil/utf-8-validate. No permessage-deflate (ws's server default)
// unless PERMESSAGE_DEFLATE=1 (`bench/start-peer.sh node-ws-deflate`): then
// `perMessageDeflate: true` with ws's defaults, as an application that
// turns it on would have it: the server keeps its compression context
// between messages (no server_no_context_takeover), so each message is
// compressed again for every client that negotiated it, and only messages
// of 1 KiB and more (ws's threshold) are compressed.
//
// Usage: [PERMESSAGE_DEFLATE=1] node server.js [PORT]
//        (or env PORT; default 8000)

const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || process.env.PORT || 8000);
const host = process.env.HOST || '127.0.0.1';
const perMessageDeflate = process.env.PERMESSAGE_DEFLATE === '1';

const wss = new WebSocketServer({ host, port, path: '/ws', perMessageDeflate });

wss.on('connection', function connection(ws) {
  ws.on('error', console.error);

  ws.on('message', function message(data, isBinary) {
    wss.clients.forEach(function each(client) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});

wss.on('listening', () => {
  const deflate = perMessageDeflate ? ', permessage-deflate' : '';
  console.log(`node-ws (ws ${require('ws/package.json').version}${deflate}) listening on ws://${host}:${port}/ws`);
});
