// glyph for JavaScript: the hyperglyph codec, the navigating client over
// fetch, and peers over WebSocket. See README.md.
export * from "./src/values.js";
export * from "./src/codec.js";
export { GlyphError, kindOfStatus, kindOfCode, codeOfKind } from "./src/errors.js";
export { bindArgs, hrefOf } from "./src/nav.js";
export { Client, escapeQuery } from "./src/client.js";
export { Peer, connect } from "./src/peer.js";
