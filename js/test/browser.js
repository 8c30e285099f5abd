// Run in Chromium by TestChromium (js/chromium_test.go): the client over
// HTTP and a peer over WebSocket, against the servers that served this
// page. What it got is written as JSON into #result.

import { Client, GlyphError, connect } from "../index.js";

async function run() {
  const client = new Client();
  const index = await client.get(new URL("/", location.href).href);
  const user = await index.call("find_user", { name: "bob" });
  const out = {
    hello: await index.call("hello", { name: "Chromium" }),
    bio: await user.call("bio"),
    types: [...(await index.call("types")).keys()].length,
  };
  try {
    await index.call("find_user", { name: "nobody" });
  } catch (e) {
    out.error = e instanceof GlyphError ? `${e.kind} ${e.logref.length}` : String(e);
  }
  const ws = `ws://${location.host}`;
  const peerIndex = await client.get(`${ws}/peer`);
  out.peerHello = await peerIndex.call("hello", ["peer"]);
  const chat = await connect(`${ws}/chat/peer`);
  const got = [];
  let seen = () => {};
  const until = (n) => new Promise((r) => (seen = () => got.length >= n && r()) && seen());
  const [deliver] = chat.callback((m) => (got.push(m.text), seen()));
  const leave = new AbortController();
  const joined = chat.call("join", { name: "chromium", deliver }, { signal: leave.signal });
  await until(1); // the notice that chromium joined
  await chat.call("send", ["ann", "hello browser"]);
  await until(2);
  leave.abort();
  await joined.catch(() => {});
  out.delivered = got;
  out.history = [];
  for await (const m of chat.stream("history", null, { safe: true })) out.history.push(m.text);
  out.history = out.history.slice(0, 2); // (the notice that chromium left may come later)
  await chat.close();
  await client.close();
  return out;
}

function show(v) {
  const pre = document.createElement("pre");
  pre.id = "result";
  pre.textContent = JSON.stringify(v);
  document.body.append(pre);
}

run().then(show, (e) => show({ failed: `${e?.name}: ${e?.message}` }));
