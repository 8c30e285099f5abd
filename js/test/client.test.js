// The navigating client against the walkthrough service over HTTP and
// over a peer connection: the tour of internal/walkthrough, from one URL.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Client, DateTime, Duration, Extension, Float, Form, GlyphBlob, GlyphError, Link, OrderedDict, Resource } from "../index.js";
import { httpURL, needServers, peerURL } from "./servers.js";

const client = new Client();
after(() => client.close());

/** The tour, the same over both transports: it only follows what it is handed. */
async function tour(url) {
  const index = await client.get(url);
  assert.ok(index instanceof Resource);
  const greet = await index.call("greeting");
  assert.ok(greet instanceof Form);
  const salut = await index.call("greeting", { lang: "fr" });
  const user = await index.call("find_user", { name: "bob" });
  assert.ok(user instanceof Resource);
  return {
    hello: await index.call("hello"),
    helloJS: await index.call("hello", { name: "JS" }),
    goodbye: await index.call("goodbye", ["bob"]),
    greeting: await greet.call(),
    salut: await salut.call(["Monde"]),
    user: user.resourceName,
    bio: await user.call("bio"),
    message: await user.call("message", { subject: "hi", body: "there" }),
    woo: await index.call("woo"),
  };
}

const wantTour = {
  hello: "Hello World",
  helloJS: "Hello JS",
  goodbye: "Goodbye bob",
  greeting: "Hello World",
  salut: "Salut Monde",
  user: "User",
  bio: "bob is user 2, kept on shard-0",
  message: "message for bob on shard-0: hi (there)",
  woo: [1, true, null, false, "a", "b"],
};

/** Checks types(): one value of every glyph type. */
function checkTypes(t) {
  assert.ok(t instanceof OrderedDict);
  assert.deepEqual([...t.keys()], ["nil", "true", "false", "integer", "big integer", "unicode", "bytearray", "float", "datetime", "timedelta", "list", "set", "dict", "ordered dict", "extension", "blob"]);
  assert.equal(t.get("integer"), 123);
  assert.equal(t.get("big integer"), 2n ** 64n);
  assert.equal(t.get("unicode"), "héllo wörld");
  assert.deepEqual(t.get("bytearray"), Uint8Array.of(0, 255, 103));
  assert.equal(t.get("float"), 1.5);
  const d = t.get("datetime");
  assert.ok(d instanceof DateTime);
  assert.equal(d.toISOString(), "2012-08-12T13:14:15.123Z");
  assert.equal(d.micros, 456);
  assert.ok(t.get("timedelta") instanceof Duration);
  assert.equal(t.get("timedelta").toString(), "P0Y0M3DT2H0M0S");
  assert.deepEqual(t.get("list"), [1, "two", new Float(3)]);
  assert.deepEqual(t.get("set"), new Set([1, 2, 3]));
  assert.deepEqual(t.get("dict"), { a: 1, b: [2] });
  assert.deepEqual([...t.get("ordered dict")], [["z", 1], ["a", 2]]);
  const ext = t.get("extension");
  assert.ok(ext instanceof Extension);
  assert.equal(ext.name, "note");
  assert.equal(ext.content, "unknown extensions pass through");
  const blob = t.get("blob");
  assert.ok(blob instanceof GlyphBlob);
  assert.equal(blob.contentType, "text/plain");
  assert.equal(blob.text(), "hello, blob");
}

describe("client over HTTP", { skip: needServers, timeout: 20000 }, () => {
  test("the tour", async () => assert.deepEqual(await tour(httpURL), wantTour));

  test("every type", async () => {
    const index = await client.get(httpURL);
    checkTypes(await index.call("types"));
  });

  test("a redirect is followed, and the page's URLs resolve against where it ended", async () => {
    const index = await client.get(httpURL);
    const user = await index.call("find_user", { name: "alice" });
    assert.match(user.url, /^\/User\/\?/);
    const bio = user.get("bio");
    assert.ok(bio instanceof Link, "a safe method is a link");
    assert.equal(await user.call("bio"), "alice is user 1, kept on shard-1");
    assert.equal((await user.reload()).url, user.url);
  });

  test("errors are GlyphErrors with a kind, a message and a logref", async () => {
    const index = await client.get(httpURL);
    await assert.rejects(index.call("find_user", { name: "nobody" }), (e) => {
      assert.ok(e instanceof GlyphError);
      assert.equal(e.kind, "not_found");
      assert.equal(e.status, 404);
      assert.match(e.message, /no user named "nobody"/);
      assert.match(e.logref, /^[0-9a-f]{16}$/);
      return true;
    });
    await assert.rejects(client.get(new URL("/nowhere", httpURL).href), { kind: "not_found", status: 404 });
  });

  test("arguments are checked against the form before any request", async () => {
    const index = await client.get(httpURL);
    await assert.rejects(index.call("goodbye"), { kind: "invalid", message: /missing argument "name"/ });
    await assert.rejects(index.call("goodbye", { nom: "x" }), { kind: "invalid", message: /unknown argument "nom"/ });
    await assert.rejects(index.call("goodbye", ["a", "b"]), { kind: "invalid", message: /takes 1 argument/ });
    await assert.rejects(index.call("nosuch"), { kind: "not_found" });
  });

  test("the request says what it accepts", async () => {
    const seen = [];
    const c = new Client({ fetch: (url, init) => (seen.push(init.headers), fetch(url, init)) });
    await c.get(httpURL);
    assert.equal(seen[0].Accept, "application/vnd.hyperglyph, */*;q=0.1");
  });
});

describe("client over HTTP: envelopes and answers", { skip: needServers, timeout: 20000 }, () => {
  test("a GET form sends its arguments in the query", async () => {
    const seen = [];
    const c = new Client({ fetch: (url, init) => (seen.push(`${init.method} ${url}`), fetch(url, init)) });
    const more = await c.get(new URL("/more/", httpURL).href);
    const echo = more.get("echo");
    assert.ok(echo instanceof Form);
    assert.equal(echo.attr("method"), "GET");
    for (const s of ["a+b c", "é;:%&=?#/", ""]) assert.equal(await echo.call([s]), s);
    assert.match(seen[1], /^GET http:\/\/[^/]+\/more\/echo\?Ou1%3As%3Bu5%3Aa%2Bb%20c%3B%3B$/);
  });

  test("a blob argument travels in the form body, after it", async () => {
    const more = await client.get(new URL("/more/", httpURL).href);
    assert.equal(await more.call("size", { b: new GlyphBlob("hello", "text/plain") }), "5 bytes of text/plain");
    const big = new GlyphBlob(new Uint8Array(200000), "application/octet-stream");
    assert.equal(await more.call("size", [big]), "200000 bytes of application/octet-stream");
    // A Blob, such as a browser's File, is read and sent the same way.
    assert.equal(await more.call("size", [new Blob(["hello"], { type: "text/plain" })]), "5 bytes of text/plain");
  });

  test("201 is a link to the new resource, 204 is null, another media type a blob", async () => {
    const more = await client.get(new URL("/more/", httpURL).href);
    const created = await more.call("create");
    assert.ok(created instanceof Link);
    assert.equal(created.url, new URL("/more/echo", httpURL).href);
    assert.equal(await more.call("nothing"), null);
    const file = await more.call("file");
    assert.ok(file instanceof GlyphBlob);
    assert.equal(file.contentType, "text/plain; charset=utf-8");
    assert.equal(file.text(), "raw body");
    assert.equal(file.attrs.url, new URL("/more/file", httpURL).href);
  });
});

describe("client over a peer connection", { skip: needServers, timeout: 20000 }, () => {
  test("the tour", async () => assert.deepEqual(await tour(peerURL), wantTour));

  test("every type", async () => {
    const index = await client.get(peerURL);
    checkTypes(await index.call("types"));
  });

  test("errors carry the kind and logref", async () => {
    const index = await client.get(peerURL);
    await assert.rejects(index.call("find_user", { name: "nobody" }), (e) => {
      assert.ok(e instanceof GlyphError);
      assert.equal(e.kind, "not_found");
      assert.equal(e.code, 5);
      assert.match(e.logref, /^[0-9a-f]{16}$/);
      return true;
    });
  });
});
