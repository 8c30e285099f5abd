// Checked by tsc (npm test; TestTypes in js_test.go): the README's usage
// typed against index.d.ts. It is compiled, never run.

import { Client, Form, GlyphError, OrderedDict, Resource, connect, decode, encode, type Peer } from "../index.js";

export async function usage(url: string, peerURL: string): Promise<string> {
  const client = new Client();
  const index: Resource = await client.get(url);
  const hello: string = await index.call("hello", { name: "JS" });
  const greet = await index.call("greeting");
  if (greet instanceof Form) await greet.call(["fr"]);
  try {
    await index.call("find_user", { name: "nobody" });
  } catch (e) {
    if (e instanceof GlyphError) console.log(e.kind, e.message, e.logref);
  }
  const bytes: Uint8Array = encode(new OrderedDict<string, number>([["a", 1]]));
  const back: unknown = decode(bytes);
  const peer: Peer = await connect(peerURL);
  const [name, release] = peer.callback((m: { text: string }) => console.log(m.text));
  const leave = new AbortController();
  const joined: Promise<unknown> = peer.call("join", { name: "ts", deliver: name }, { signal: leave.signal });
  for await (const m of peer.stream("history", null, { safe: true })) console.log(m, back);
  leave.abort();
  await joined.catch(() => {});
  release();
  await peer.close();
  await client.close();
  return hello;
}
