// Peers against a chat room served to peers: calls, streamed results,
// streamed arguments, callbacks both ways, cancellation.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GlyphError, Peer, connect } from "../index.js";
import { backURL, chatURL, needServers, peerURL } from "./servers.js";

describe("peers", { skip: needServers, timeout: 20000 }, () => {
  /** @type {Peer} */
  let chat;
  before(async () => {
    chat = await connect(chatURL);
  });
  after(() => chat?.close());

  test("the handshake settles the glyph codec and the extensions", () => {
    assert.ok(chat instanceof Peer);
    assert.deepEqual([...chat.extensions].sort(), ["cancel", "end", "safe"]);
  });

  test("a call, a callback the server calls, a result that streams", async () => {
    const got = [];
    let seen = () => {};
    const until = (n) => new Promise((r) => (seen = () => got.length >= n && r()) && seen());
    const [deliver, release] = chat.callback((m) => {
      got.push(`${m.from}: ${m.text}`);
      seen();
    });
    const leave = new AbortController();
    const joined = chat.call("join", { name: "js", deliver }, { signal: leave.signal });
    await until(1); // the room's notice that js joined: from now on it gets every message
    assert.equal(typeof (await chat.call("send", { name: "ann", text: "hello" })), "number");
    await chat.call("send", ["bob", "hi ann"]);
    await until(3);
    assert.deepEqual(got, [": js joined", "ann: hello", "bob: hi ann"]);
    leave.abort();
    await assert.rejects(joined, { kind: "canceled" });
    release();

    const history = [];
    for await (const m of chat.stream("history", null, { safe: true })) history.push(m.text);
    const at = history.indexOf("js joined");
    assert.deepEqual(history.slice(at, at + 3), ["js joined", "hello", "hi ann"]);
    const who = await chat.call("who", null, { safe: true });
    assert.ok(Array.isArray(who));
  });

  test("a callback that fails fails the call that called it, with its kind", async () => {
    const [deliver, release] = chat.callback(() => {
      throw new GlyphError("permission_denied", "not for me");
    });
    try {
      await assert.rejects(chat.call("join", { name: "refuser", deliver }), (e) => {
        assert.ok(e instanceof GlyphError);
        assert.equal(e.kind, "permission_denied");
        assert.match(e.message, /not for me/);
        return true;
      });
    } finally {
      release();
    }
  });

  test("streamed arguments", async () => {
    async function* messages() {
      for (const text of ["one", "two", "three"]) yield { from: "streamer", text };
    }
    assert.equal(await chat.call("post", null, { args: messages() }), 3);
    assert.equal(await chat.call("post", null, { args: [] }), 0);
  });

  test("errors reply their kind", async () => {
    await assert.rejects(chat.call("send", { name: "", text: "x" }), (e) => e instanceof GlyphError && e.kind === "invalid");
    await assert.rejects(chat.call("nosuch"), { kind: "not_found" });
  });

  test("a connection refused", async () => {
    await assert.rejects(connect(chatURL.replace(/:\d+\//, ":1/")), { kind: "unavailable" });
  });

  test("the remote calls this side's handlers: results, streams, errors", async () => {
    const seen = [];
    const p = await connect(backURL, {
      handlers: {
        upper: (s) => String(s).toUpperCase(),
        count: async function* (n) {
          for (let i = 1; i <= n; i++) yield { num: i };
        },
        sum: (xs) => xs.reduce((a, b) => a + b, 0),
        refuse: () => {
          throw new GlyphError("permission_denied", "not you");
        },
        crash: () => {
          throw new TypeError("oops");
        },
        unencodable: () => Symbol("no glyph value"),
        slow: async (_, call) => {
          await new Promise((r) => setTimeout(r, 20));
          seen.push(call.method);
          return call.ext ?? "no ext";
        },
      },
    });
    try {
      assert.deepEqual(await p.call("call", ["upper", "hi"]), ["HI"]);
      assert.deepEqual(await p.call("call", ["count", 3]), [{ num: 1 }, { num: 2 }, { num: 3 }]);
      assert.deepEqual(await p.call("call", ["count", 0]), []);
      assert.deepEqual(await p.call("call", ["sum", null, 1, 2, 3]), [6]);
      assert.deepEqual(await p.call("call", ["slow"]), ["no ext"]);
      assert.deepEqual(seen, ["slow"]);
      await assert.rejects(p.call("call", ["refuse"]), { kind: "permission_denied", message: /not you/ });
      await assert.rejects(p.call("call", ["crash"]), { kind: "internal", message: /oops/ });
      await assert.rejects(p.call("call", ["unencodable"]), { kind: "invalid", message: /cannot encode/ });
      await assert.rejects(p.call("call", [() => 1]), { kind: "invalid", message: /cannot encode/ });
      await assert.rejects(p.call("call", ["nosuch"]), { kind: "not_found", message: /method not found: nosuch/ });
      const release = p.register("late", () => "registered later");
      assert.deepEqual(await p.call("call", ["late"]), ["registered later"]);
      release();
      await assert.rejects(p.call("call", ["late"]), { kind: "not_found" });
    } finally {
      await p.close();
    }
  });

  test("notifications, and a closed connection", async () => {
    // The walkthrough's peer endpoint serves the service; the JS side
    // serves methods of its own that a callback argument names.
    const p = await connect(peerURL);
    try {
      const index = await p.get();
      assert.equal(index.resourceName, "walkthrough");
      // A notification gets no reply; a call after it shows the
      // connection is still in order.
      p.notify("hello", { name: "nobody listens" });
      assert.equal(await p.call("hello", { name: "again" }), "Hello again");
    } finally {
      await p.close();
    }
    await assert.rejects(p.call("hello"), { kind: "unavailable" });
  });
});
