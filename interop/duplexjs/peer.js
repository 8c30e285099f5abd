#!/usr/bin/env node
// peer.js: the public duplex JavaScript peer (npm duplex.js 0.1.0, from
// github.com/progrium/duplex) against glyph, for interop_test.go.
//
//   node peer.js WS-URL [client|notify-reply|codec]
//       connect to the glyph server at WS-URL and run a scenario
//       (default client);
//   node peer.js --serve
//       accept one connection from glyph on a free port of 127.0.0.1 (the
//       first line printed says where) and serve it until it closes.
//
// duplex.js runs over the `ws` package through duplex.js's own browser
// wrapper, duplex.wrap.websocket. peer.js prints one JSON object per line
// on stdout:
//
//   {"step":NAME, ...}        the outcome of one step of the scenario
//   {"handled":METHOD, ...}   a call glyph made to a method registered here,
//                             as duplex.js handed it to the handler
//   {"frame":">"|"<","conn":N,"data":TEXT}
//                             a frame duplex.js sent (>) or got (<) on its
//                             connection N, as it was on the wire
//   {"event":...}             the WebSocket closed, an uncaught exception
//   {"listening":WS-URL}      (--serve) where to connect
//
// It never hangs: each step has a timeout, and so has the whole run
// (DUPLEXJS_TIMEOUT_MS, default 15000). It exits 0 when every step ran,
// whatever its result (the Go test judges them); 1 when a step failed in a
// way no result describes (an exception, a timeout); 2 on bad usage; 3 on
// the overall timeout.
'use strict';

const { duplex } = require('duplex.js');
const WebSocket = require('ws');

const TOTAL_MS = Number(process.env.DUPLEXJS_TIMEOUT_MS) || 15000;
const STEP_MS = 3000;

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let failed = false;
const overall = setTimeout(() => {
  out({ step: 'overall-timeout', exception: `no end after ${TOTAL_MS} ms` });
  process.exit(3);
}, TOTAL_MS);

function finish() {
  out({ step: 'done', failed });
  clearTimeout(overall);
  // Exit once stdout is flushed, leaving whatever sockets remain.
  process.stdout.write('', () => process.exit(failed ? 1 : 0));
}

// Exceptions that leave a WebSocket listener: duplex.js runs handlers
// (and its own asserts) there and catches nothing.
const uncaught = [];
let uncaughtWaiter = null;
process.on('uncaughtException', (e) => {
  out({ event: 'uncaught', error: String(e && e.message) });
  uncaught.push(String(e && e.message));
  if (uncaughtWaiter) uncaughtWaiter();
});
function nextUncaught() {
  if (uncaught.length) return Promise.resolve(uncaught.shift());
  return new Promise((resolve) => {
    uncaughtWaiter = () => {
      uncaughtWaiter = null;
      resolve(uncaught.shift());
    };
  });
}

// Frames, per connection, as they went over the wire.
const frames = {};

function logFrame(conn, dir, data) {
  (frames[conn] = frames[conn] || []).push({ dir, data });
  out({ frame: dir, conn, data });
}

// The reply envelopes duplex.js received on connection conn for its call id.
function repliesFor(conn, id) {
  const reps = [];
  for (const f of frames[conn] || []) {
    if (f.dir !== '<' || f.data[0] !== '{') continue;
    const msg = JSON.parse(f.data);
    if (msg.type === 'rep' && msg.id === id) reps.push(msg);
  }
  return reps;
}

// wrap gives duplex.js an open WebSocket through duplex.js's own wrapper,
// logging the frames on the way in and out and changing nothing else.
function wrap(ws, conn) {
  ws.onerror = (ev) => out({ event: 'ws-error', conn, error: String(ev.message) });
  const whenClosed = new Promise((resolve) => {
    ws.onclose = (ev) => {
      out({ event: 'ws-close', conn, code: ev.code, reason: ev.reason });
      resolve({ code: ev.code, reason: ev.reason });
    };
  });
  const c = duplex.wrap.websocket(ws);
  const send = c.send;
  c.send = (msg) => {
    logFrame(conn, '>', msg);
    return send(msg);
  };
  const onmessage = ws.onmessage;
  ws.onmessage = (ev) => {
    logFrame(conn, '<', typeof ev.data === 'string' ? ev.data : `<binary frame of ${ev.data.length} bytes>`);
    return onmessage(ev);
  };
  return { c, whenClosed };
}

// connect opens a WebSocket to url and runs duplex.js's handshake on it as
// the connecting side; it resolves to the socket and duplex.js's Peer.
function connect(url, rpc, conn, wsOptions) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, wsOptions);
    ws.onerror = (ev) => reject(ev.error || new Error(String(ev.message)));
    ws.onopen = () => {
      const { c, whenClosed } = wrap(ws, conn);
      rpc.handshake(c, (peer) => {
        peer.whenClosed = whenClosed;
        resolve({ ws, peer });
      });
    };
  });
}

// call makes a call with duplex.js's Peer.open and Channel.send (what
// Peer.call does, keeping the channel to know its id). It resolves once
// the reply ends: to the items in order, with the error reply that ended
// them if one did; or with how the connection closed before that.
function call(peer, method, args, opts = {}) {
  const items = [];
  let id;
  const replied = new Promise((resolve) => {
    const ch = peer.open(method, (err, payload, more) => {
      if (err) {
        resolve({ id, items, error: err });
        return;
      }
      items.push(payload);
      if (more !== true) resolve({ id, items });
    });
    id = ch.id;
    if (opts.ext !== undefined) ch.ext = opts.ext;
    const argsList = opts.stream ? args : [args];
    argsList.forEach((a, i) => ch.send(a, i < argsList.length - 1));
  });
  const closed = peer.whenClosed.then((c) => ({ id, items, closed: c }));
  return Promise.race([replied, closed]);
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

async function step(name, fn, ms = STEP_MS) {
  try {
    const res = await withTimeout(Promise.resolve().then(fn), ms, name);
    out(Object.assign({ step: name }, res));
  } catch (e) {
    failed = true;
    out({ step: name, exception: String((e && e.stack) || e) });
  }
}

// What glyph does to the methods registered here.
let noteSeen;
const noteArrived = new Promise((resolve) => {
  noteSeen = resolve;
});

function handled(ch, payload, more) {
  const h = { handled: ch.method, id: ch.id, payload };
  if (more !== undefined) h.more = more;
  if (ch.ext !== undefined && ch.ext !== null) h.ext = ch.ext;
  out(h);
}

// newRPC registers the methods glyph may call, written the way duplex.js's
// own tests and demo write their services.
function newRPC(codec = duplex.JSON) {
  const rpc = new duplex.RPC(codec);
  rpc.register('echo', (ch) => {
    ch.onrecv = (err, obj, more) => {
      handled(ch, obj, more);
      ch.send(obj);
    };
  });
  rpc.register('whoami', (ch) => {
    ch.onrecv = (err, obj, more) => {
      handled(ch, obj, more);
      ch.send({ ext: ch.ext === undefined ? null : ch.ext });
    };
  });
  rpc.register('count', (ch) => {
    ch.onrecv = (err, count, more) => {
      handled(ch, count, more);
      for (let num = 1; num <= count; num++) ch.send({ num }, num !== count);
    };
  });
  rpc.register('adder', (ch) => {
    let total = 0;
    ch.onrecv = (err, num, more) => {
      handled(ch, num, more);
      total += num;
      if (!more) ch.send(total);
    };
  });
  rpc.register('upper', (ch) => {
    ch.onrecv = (err, s, more) => {
      handled(ch, s, more);
      ch.send(s.toUpperCase(), more === true);
    };
  });
  rpc.register('error', (ch) => {
    ch.onrecv = (err, obj, more) => {
      handled(ch, obj, more);
      ch.senderr(1000, 'Test message', { why: 'asked to' });
    };
  });
  rpc.register('note', (ch) => {
    ch.onrecv = (err, obj, more) => {
      handled(ch, obj, more);
      noteSeen(obj);
    };
  });
  rpc.register('throws', (ch) => {
    ch.onrecv = (err, obj, more) => {
      handled(ch, obj, more);
      throw new Error('thrown by the duplex.js handler');
    };
  });
  // void replies with nothing: JSON.stringify leaves the payload out.
  rpc.register('void', (ch) => {
    ch.onrecv = (err, obj, more) => {
      handled(ch, obj, more);
      ch.send();
    };
  });
  // relay calls glyph's "gupper" back on the same connection, as
  // duplex.js's demo does (Channel.call passes the call's ext on).
  rpc.register('relay', (ch) => {
    ch.onrecv = (err, obj, more) => {
      handled(ch, obj, more);
      ch.call('gupper', obj, (err, res) => {
        if (err) ch.senderr(err.code, err.message, err.data);
        else ch.send(`relayed ${res}`);
      });
    };
  });
  return rpc;
}

// client: duplex.js connects to glyph and calls it, both ways.
async function client(url) {
  const rpc = newRPC();
  let ws1, peer;
  await step('handshake', async () => {
    ({ ws: ws1, peer } = await connect(url, rpc, 1));
    return { sent: frames[1][0].data, got: frames[1][1].data };
  });
  if (!peer) return;

  // Unary calls with every shape of arguments.
  await step('echo-list', () => call(peer, 'echo', [1, 'two', { three: 3 }, null, true, 2.5]));
  await step('echo-map', () => call(peer, 'echo', { foo: 'bar', n: -7, nested: { list: [] } }));
  await step('echo-value', () => call(peer, 'echo', 'héllo ✓ 😀 <&>'));
  await step('echo-null', () => call(peer, 'echo', null));
  // Arguments left undefined: JSON.stringify leaves the payload out.
  await step('echo-undefined', () => call(peer, 'echo', undefined));
  // The service layer: positional, named, one and no arguments.
  await step('hello-list', () => call(peer, 'hello', ['Ann']));
  await step('hello-map', () => call(peer, 'hello', { name: 'Bob' }));
  await step('hello-value', () => call(peer, 'hello', 'Eve'));
  await step('hello-null', () => call(peer, 'hello', null));
  await step('add-list', () => call(peer, 'add', [2, 3]));
  await step('add-map', () => call(peer, 'add', { b: 10, a: 5 }));

  // Metadata: the reply carries the request's ext (duplex.js does not hand
  // a reply's ext to the callback: it is read from the frames), and the
  // service gets its strings as headers.
  await step('ext-echo', async () => {
    const r = await call(peer, 'echo', { x: 1 }, { ext: { trace: 'abc123', n: 1 } });
    r.replyExt = repliesFor(1, r.id).map((m) => (m.ext === undefined ? null : m.ext));
    return r;
  });
  await step('ext-header', () => call(peer, 'trace', null, { ext: { trace: 'js-trace-7' } }));
  // Peer.ext: what duplex.js puts on every call its peer makes.
  await step('peer-ext', async () => {
    peer.ext = { trace: 'peer-wide' };
    try {
      const r = await call(peer, 'trace', null);
      r.replyExt = repliesFor(1, r.id).map((m) => (m.ext === undefined ? null : m.ext));
      return r;
    } finally {
      peer.ext = null;
    }
  });

  // Streamed results: several rep with more, one callback each.
  await step('count', () => call(peer, 'count', [4]));
  await step('count-one', () => call(peer, 'count', [1]));
  await step('count-none', () => call(peer, 'count', [0]));
  // Streamed arguments: Peer.open, then Channel.send(arg, more).
  await step('sum-stream', () => call(peer, 'sum', [1, 2, 3, 4], { stream: true }));
  await step('sum-one', () => call(peer, 'sum', [42], { stream: true }));
  // Both ways at once: a result per argument.
  await step('upper-stream', () => call(peer, 'upper', ['a', 'b', 'c'], { stream: true }));

  // Errors.
  await step('fail', () => call(peer, 'fail', null));
  await step('conflict', () => call(peer, 'conflict', null));
  await step('failmid', () => call(peer, 'failmid', null));
  await step('bad-args', () => call(peer, 'add', ['two', 3]));
  await step('nosuch', () => call(peer, 'nosuch', { a: 1 }));
  // A streamed call of an unknown method: one error reply, the later
  // arguments are dropped, and the connection carries on.
  await step('nosuch-stream', async () => {
    const r = await call(peer, 'nosuch.stream', [1, 2, 3], { stream: true });
    r.after = (await call(peer, 'echo', 'after')).items;
    r.reps = repliesFor(1, r.id).length;
    return r;
  });

  // A call answered after its first argument: it stays answered, and the
  // arguments after the reply are dropped, not taken for a new call.
  await step('early-reply', async () => {
    const r = await call(peer, 'echo', ['a', 'b', 'c'], { stream: true });
    r.after = (await call(peer, 'echo', 'after')).items;
    r.reps = repliesFor(1, r.id).length;
    return r;
  });

  // A notification (no id, nothing comes back); "logged" waits until the
  // service got it.
  await step('notify', () => {
    peer.call('log', 'hello from duplex.js');
    return call(peer, 'logged', null);
  });

  // Callbacks: a function registered by RPC.callbackFunc under
  // "_callback.<uuid>", its name sent in the payload.
  await step('callback', async () => {
    const got = [];
    const name = rpc.callbackFunc((args, reply) => {
      got.push(args);
      reply(String(args).toUpperCase());
    });
    const r = await call(peer, 'callback', [name, 'hello']);
    r.callbackGot = got;
    r.named = /^_callback\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(name);
    return r;
  });
  // The same through the service layer: shout's second parameter is a
  // func, which glyph resolves to the name the caller registered.
  await step('callback-service', async () => {
    const got = [];
    const name = rpc.callbackFunc((args, reply) => {
      got.push(args);
      reply(`${args}, said duplex.js`);
    });
    const r = await call(peer, 'shout', ['hi', name]);
    r.callbackGot = got;
    return r;
  });

  // Many calls at once, unary and streamed: each reply finds its call.
  await step('concurrent', async () => {
    const calls = [];
    for (let i = 0; i < 40; i++) {
      calls.push(call(peer, 'add', [i, 1000]).then((r) => r.items[0] === i + 1000));
      calls.push(call(peer, 'count', [i % 5 + 1]).then((r) => r.items.length === (i % 5) + 1));
    }
    const ok = await Promise.all(calls);
    return { calls: ok.length, wrong: ok.filter((x) => !x).length };
  });

  // glyph calls the methods registered here while it handles "callme",
  // with this call's ext.
  await step('callme', async () => {
    const r = await call(peer, 'callme', null, { ext: { trace: 'callme-1' } });
    r.note = await withTimeout(noteArrived, STEP_MS, 'note');
    return r;
  });

  // duplex.API, the library's browser wrapper: it queues calls made
  // before it is connected. It needs a global WebSocket (Node 20 has none).
  await step('api-queued', () => {
    global.WebSocket = WebSocket;
    const api = new duplex.API(url.replace(/^ws/, 'ws+json'));
    return new Promise((resolve) => {
      api.call('echo', 'queued before connect', (err, res, more) => resolve({ err, items: [res], more }));
    });
  });

  // A handler that throws: the exception leaves the WebSocket listener and
  // no reply is sent. "callthrow" is a notification: glyph calls "throws"
  // with a deadline.
  await step('throws', async () => {
    peer.call('callthrow', null);
    return { uncaught: await nextUncaught() };
  });
  // What glyph got from that call, asked on a new connection that sends
  // the Origin header of a page served by the glyph host.
  await step('second-conn', async () => {
    const origin = url.replace(/^ws/, 'http').replace(/^(https?:\/\/[^/]+).*$/, '$1');
    const { ws: ws2, peer: peer2 } = await connect(url, newRPC(), 3, { origin });
    try {
      const r = await call(peer2, 'throwresult', null);
      r.echo = (await call(peer2, 'echo', 'second')).items;
      return r;
    } finally {
      ws2.close(1000, 'done');
    }
  });
  // The first connection's reader may be stuck since the exception: end it
  // without the closing handshake.
  ws1.terminate();
}

// notifyReply: glyph notifies duplex.js's echo, which replies to anything
// it gets (as duplex.js's own tests and demo write it), then calls it.
async function notifyReply(url) {
  const { ws, peer } = await connect(url, newRPC(), 1);
  await step('notify-reply', () => call(peer, 'notifyme', 'ping'));
  ws.terminate();
}

// codec: duplex.js with a codec of its own (its tests use one called
// b64json between duplex.js peers) greets glyph with that codec's name.
async function codec(url) {
  const b64json = [
    'b64json',
    (obj) => Buffer.from(JSON.stringify(obj)).toString('base64'),
    (str) => JSON.parse(Buffer.from(str, 'base64').toString()),
  ];
  await step('codec', () => {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onerror = (ev) => reject(ev.error || new Error(String(ev.message)));
      ws.onopen = () => {
        const { c } = wrap(ws, 1);
        newRPC(b64json).handshake(c, () => resolve({ ready: true }));
        // The assertion leaves ws's receiver stuck mid-message, so the close
        // that follows the refusal is never read: stop at the exception.
        nextUncaught().then((error) => {
          resolve({ frames: frames[1].map((f) => f.dir + ' ' + f.data), uncaught: error });
          ws.terminate();
        });
      };
    });
  });
}

// serve: duplex.js accepts a connection from glyph (RPC.accept), calls it
// at once, serves its calls, and ends when it closes.
async function serve() {
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  out({ listening: `ws://127.0.0.1:${wss.address().port}/` });
  const ws = await withTimeout(new Promise((resolve) => wss.once('connection', resolve)), 10000, 'accept');
  const { c, whenClosed } = wrap(ws, 1);
  const peer = await new Promise((resolve) => newRPC().accept(c, resolve));
  peer.whenClosed = whenClosed;
  // The acceptor calls the connector right after its answer.
  await step('acceptor-calls', () => call(peer, 'gecho', { early: true }));
  await step('acceptor-stream', () => call(peer, 'gcount', 3));
  await step('acceptor-notify', () => {
    peer.call('gnote', 'from the acceptor');
    return call(peer, 'gnoted', null);
  });
  await step('closed', async () => {
    const closed = await whenClosed;
    return { closed, greeting: frames[1][0].data, answer: frames[1][1].data };
  }, 10000);
  wss.close();
}

async function main() {
  if (process.argv[2] === '--serve') return serve();
  const url = process.argv[2];
  const scenarios = { client, 'notify-reply': notifyReply, codec };
  const name = process.argv[3] || 'client';
  if (!url || !/^wss?:\/\//.test(url) || !scenarios[name]) {
    process.stderr.write(`usage: node peer.js ws://host:port/path [${Object.keys(scenarios).join('|')}]\n       node peer.js --serve\n`);
    process.exit(2);
  }
  return scenarios[name](url);
}

main()
  .catch((e) => {
    failed = true;
    out({ step: 'main', exception: String((e && e.stack) || e) });
  })
  .finally(finish);
