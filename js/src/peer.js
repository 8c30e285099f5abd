// Peers: glyph's peer protocol (peer/spec.md) over WebSocket with the
// glyph codec. Either side calls the other; results and arguments stream.

import { DecodeError, decode, encode } from "./codec.js";
import { GlyphError, codeOfKind, kindOfCode } from "./errors.js";
import { attach, hrefOf } from "./nav.js";
import { Link } from "./values.js";

/** The extensions of peer/spec.md section 5 that this peer implements. */
const EXTENSIONS = ["cancel", "end", "safe"];

/** The default bound of one incoming frame, as package peer's. */
const DEFAULT_MAX_FRAME = 4 * 1024 * 1024;

/** The results of a stream a caller may leave unread before it fails. */
const MAX_UNREAD = 1024;

/**
 * @typedef {object} PeerOptions
 * @property {any} [WebSocket] the WebSocket constructor (globalThis.WebSocket)
 * @property {Partial<import("./codec.js").DEFAULT_LIMITS>} [limits] decoding limits
 * @property {number} [maxFrameBytes] the largest frame accepted (4 MiB)
 * @property {number} [timeout] milliseconds the connection and handshake may take (10 s)
 * @property {Record<string, Handler>} [handlers] methods this side serves from the start
 * @property {number} [streams] how many of the remote's calls this side serves at once (256)
 */

/**
 * A method this side serves: it gets the call's payload (for streamed
 * arguments, an array of them) and returns the result, a promise of it,
 * or an async iterable whose items stream back. A thrown GlyphError
 * replies its kind; anything else thrown replies "internal".
 * @typedef {(payload: any, call: {method: string, ext: any, signal: AbortSignal}) => any} Handler
 */

/**
 * @typedef {object} PeerCallOptions
 * @property {AbortSignal} [signal] cancels the call
 * @property {any} [ext] metadata sent with the call (headers)
 * @property {boolean} [safe] marks the call as only reading
 * @property {Iterable<any>|AsyncIterable<any>} [args] streams these arguments instead of the payload
 */

/**
 * Connects to a glyph peer at url (ws:// or wss://) and completes the
 * handshake.
 * @param {string} url @param {PeerOptions} [options]
 * @returns {Promise<Peer>}
 */
export function connect(url, options = {}) {
  const WS = options.WebSocket ?? globalThis.WebSocket;
  if (typeof WS !== "function") {
    return Promise.reject(new GlyphError("unsupported", "glyph: no WebSocket: pass one as the WebSocket option (Node 20: node --experimental-websocket)"));
  }
  const timeout = options.timeout ?? 10000;
  return new Promise((resolve, reject) => {
    /** @type {WebSocket} */
    let ws;
    try {
      ws = new WS(url);
    } catch (e) {
      reject(new GlyphError("invalid", `${url}: ${e instanceof Error ? e.message : e}`, { cause: e }));
      return;
    }
    ws.binaryType = "arraybuffer";
    const timer = setTimeout(() => fail(new GlyphError("deadline_exceeded", `${url}: no handshake within ${timeout} ms`)), timeout);
    /** @param {GlyphError} e */
    const fail = (e) => {
      clearTimeout(timer);
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close();
      } catch {
        // closing a socket that never opened
      }
      reject(e);
    };
    ws.onopen = () => {
      ws.send(`SIMPLEX/1.0;glyph;glyph-codecs=glyph;glyph-ext=${EXTENSIONS.join(",")};glyph-streams=${options.streams ?? 256}`);
    };
    ws.onerror = () => fail(new GlyphError("unavailable", `${url}: cannot connect`));
    ws.onclose = (ev) => fail(new GlyphError("unavailable", `${url}: closed before the handshake (${ev.code}${ev.reason ? " " + ev.reason : ""})`));
    ws.onmessage = (ev) => {
      clearTimeout(timer);
      if (typeof ev.data !== "string") return fail(new GlyphError("bad_frame", `${url}: the handshake's answer is not a text frame`));
      const answer = ev.data;
      if (answer.startsWith("-ERR")) return fail(new GlyphError("unsupported", `handshake: peer refused the handshake: ${answer.slice(4).trim()}`));
      if (!answer.startsWith("+OK")) return fail(new GlyphError("bad_frame", `handshake: unexpected answer ${JSON.stringify(answer.slice(0, 80))}`));
      /** @type {Record<string, string>} */
      const params = {};
      for (const p of answer.split(";").slice(1)) {
        const i = p.indexOf("=");
        if (i > 0) params[p.slice(0, i)] = p.slice(i + 1);
      }
      if ((params.codec ?? "glyph") !== "glyph") return fail(new GlyphError("bad_frame", `handshake: the peer chose codec ${params.codec}, not glyph`));
      const ext = new Set((params.ext ?? "").split(",").filter((x) => EXTENSIONS.includes(x)));
      const streams = params.streams ? Number(params.streams) : Infinity;
      resolve(new Peer(ws, url, ext, streams, options));
    };
  });
}

/**
 * A call of the remote that this side serves.
 * @typedef {{method: string, ext: any, items: any[], abort: AbortController, streaming: boolean}} Serving
 */

/** One of our calls in flight: its results as a queue. */
class Call {
  /** @param {number} id @param {string} method */
  constructor(id, method) {
    this.id = id;
    this.method = method;
    /** @type {any[]} */
    this.items = [];
    this.done = false;
    this.streamed = false; // a result came with more
    /** @type {GlyphError|null} */
    this.error = null;
    /** @type {(() => void)|null} */
    this.wake = null;
    /** @type {(() => void)[]} run when the call ends */
    this.cleanups = [];
  }
  notify() {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
  /** @param {GlyphError|null} err */
  end(err) {
    if (this.done) return;
    this.done = true;
    this.error = err;
    for (const f of this.cleanups.splice(0)) f();
    this.notify();
  }
}

/**
 * A connection to a glyph peer (or a duplex peer that speaks glyph). Use
 * call for one result, stream for results as they come, notify for no
 * result; register serves methods the remote calls.
 */
export class Peer {
  /**
   * @param {WebSocket} ws @param {string} url @param {Set<string>} ext
   * @param {number} streams @param {PeerOptions} options
   */
  constructor(ws, url, ext, streams, options) {
    this.ws = ws;
    this.url = url;
    /** The extensions the handshake settled. */
    this.extensions = ext;
    this.limits = options.limits;
    this.maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME;
    this.nextId = 1;
    /** @type {Map<number, Call>} */
    this.calls = new Map();
    this.remoteStreams = streams;
    this.active = 0;
    /** @type {(() => void)[]} calls waiting for a place under remoteStreams */
    this.waiting = [];
    /** @type {Map<string, Handler>} */
    this.handlers = new Map(Object.entries(options.handlers ?? {}));
    /** @type {Map<number, Serving>} the remote's calls being served, by id */
    this.serving = new Map();
    /** @type {GlyphError|null} */
    this.failure = null;
    this.navigator = new PeerNavigator(this);
    /** @type {Promise<void>} resolves when the connection is closed */
    this.closed = new Promise((resolve) => {
      this.onClosed = resolve;
    });
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.shutdown(new GlyphError("unavailable", `${url}: connection closed (${ev.code}${ev.reason ? " " + ev.reason : ""})`));
    ws.onerror = () => this.shutdown(new GlyphError("unavailable", `${url}: connection failed`));
  }

  /**
   * Calls method with payload and returns its result: the one result, or
   * an array of them when they streamed.
   * @param {string} method @param {any} [payload] @param {PeerCallOptions} [opts]
   */
  async call(method, payload = null, opts = {}) {
    const c = await this.start(method, payload, opts);
    /** @type {any[]} */
    const all = [];
    for await (const v of this.results(c)) all.push(v);
    return c.streamed ? all : all.length ? all[all.length - 1] : null;
  }

  /**
   * Calls method with payload and yields its results as they arrive.
   * Ending the iteration early cancels the call.
   * @param {string} method @param {any} [payload] @param {PeerCallOptions} [opts]
   * @returns {AsyncIterable<any>}
   */
  stream(method, payload = null, opts = {}) {
    const peer = this;
    return {
      async *[Symbol.asyncIterator]() {
        yield* peer.results(await peer.start(method, payload, opts));
      },
    };
  }

  /** Calls method without waiting for, or getting, a reply. @param {string} method @param {any} [payload] @param {{ext?: any}} [opts] */
  notify(method, payload = null, opts = {}) {
    this.check();
    this.send({ type: "req", method, payload, ...(opts.ext !== undefined && { ext: opts.ext }) });
  }

  /**
   * Serves method on this connection; returns the function that stops
   * serving it.
   * @param {string} name @param {Handler} handler
   */
  register(name, handler) {
    this.handlers.set(name, handler);
    return () => {
      if (this.handlers.get(name) === handler) this.handlers.delete(name);
    };
  }

  /**
   * Registers fn under a fresh callback name (_callback.<uuid>) and
   * returns the name, to send as an argument, and the release function.
   * @param {(...args: any[]) => any} fn
   * @returns {[string, () => void]}
   */
  callback(fn) {
    const name = `_callback.${randomId()}`;
    // The payload of a callback holds its arguments: nil none, a list
    // them, anything else the one argument (hyperpeer's doc).
    const release = this.register(name, (p) => fn(...(p === null ? [] : Array.isArray(p) ? p : [p])));
    return [name, release];
  }

  /**
   * Reads the page at path on this connection (the service's index for
   * "/"), to navigate from.
   * @param {string} [path]
   */
  get(path = "/") {
    return this.navigator.follow(new Link("link", { method: "GET", url: path }));
  }

  /** Closes the connection; calls in flight fail with "unavailable". */
  close() {
    this.shutdown(new GlyphError("unavailable", `${this.url}: connection closed`));
    return this.closed;
  }

  check() {
    if (this.failure) throw this.failure;
  }

  /**
   * Sends an envelope, or throws a GlyphError: "invalid" for a payload
   * that cannot be encoded, "unavailable" when the connection is gone.
   * @param {Record<string, any>} env
   */
  send(env) {
    let b;
    try {
      b = encode(env);
    } catch (e) {
      throw new GlyphError("invalid", `${env.method ?? env.type}: cannot encode the payload: ${e instanceof Error ? e.message : e}`, { cause: e });
    }
    this.check();
    if (this.ws.readyState !== 1) throw new GlyphError("unavailable", `${this.url}: the connection is closing`);
    this.ws.send(b);
  }

  /**
   * Sends an answer that nobody may wait for any more (a reply, a
   * cancel): a connection gone meanwhile is no error.
   * @param {Record<string, any>} env
   */
  answer(env) {
    try {
      this.send(env);
    } catch (e) {
      if (!(e instanceof GlyphError) || e.kind !== "unavailable") throw e;
    }
  }

  /** @param {string} method @param {any} payload @param {PeerCallOptions} opts */
  async start(method, payload, opts) {
    this.check();
    if (opts.signal?.aborted) throw new GlyphError("canceled", `${method}: canceled`, { op: method });
    if (this.active >= this.remoteStreams) await new Promise((r) => this.waiting.push(r));
    this.check();
    this.active++;
    const id = this.nextId++;
    const c = new Call(id, method);
    c.cleanups.push(() => {
      this.calls.delete(id);
      this.active--;
      this.waiting.shift()?.();
    });
    this.calls.set(id, c);
    /** @type {Record<string, any>} */
    const first = { type: "req", method, id };
    if (opts.ext !== undefined) first.ext = opts.ext;
    if (opts.safe && this.extensions.has("safe")) first.safe = true;
    if (opts.signal) {
      const abort = () => this.cancel(c);
      opts.signal.addEventListener("abort", abort, { once: true });
      c.cleanups.push(() => opts.signal?.removeEventListener("abort", abort));
    }
    try {
      if (opts.args) await this.sendArgs(c, first, opts.args);
      else this.send({ ...first, payload });
    } catch (e) {
      if (this.extensions.has("cancel") && !(e instanceof GlyphError && e.kind === "unavailable")) this.answer({ type: "cancel", id });
      c.end(e instanceof GlyphError ? e : new GlyphError("invalid", `${method}: ${e instanceof Error ? e.message : e}`, { op: method, cause: e }));
    }
    return c;
  }

  /**
   * Sends streamed arguments: each as a req with more, then reqend (with
   * the "end" extension), or the last one without more (the baseline).
   * @param {Call} c @param {Record<string, any>} first @param {Iterable<any>|AsyncIterable<any>} args
   */
  async sendArgs(c, first, args) {
    const end = this.extensions.has("end");
    let sent = 0;
    let held = { has: false, v: /** @type {any} */ (null) };
    const put = (/** @type {any} */ v, /** @type {boolean} */ more) => {
      this.send({ ...(sent === 0 ? first : { type: "req", method: c.method, id: c.id }), payload: v, ...(more && { more: true }) });
      sent++;
    };
    for await (const v of args) {
      if (c.done) return;
      if (end) put(v, true);
      else {
        if (held.has) put(held.v, true);
        held = { has: true, v };
      }
    }
    if (c.done) return;
    if (end) {
      if (sent === 0) this.send({ ...first, more: true, open: true });
      this.send({ type: "reqend", id: c.id });
    } else {
      put(held.has ? held.v : null, false);
    }
  }

  /** @param {Call} c */
  cancel(c) {
    if (c.done) return;
    if (this.extensions.has("cancel") && !this.failure) this.answer({ type: "cancel", id: c.id });
    c.end(new GlyphError("canceled", `${c.method}: canceled by the caller`, { op: c.method }));
  }

  /** @param {Call} c @returns {AsyncGenerator<any>} */
  async *results(c) {
    try {
      for (;;) {
        if (c.items.length > 0) {
          yield c.items.shift();
          continue;
        }
        if (c.done) {
          if (c.error) throw c.error;
          return;
        }
        await new Promise((r) => {
          c.wake = () => r(undefined);
        });
      }
    } finally {
      // An iteration ended early: the call is of no more use.
      if (!c.done) this.cancel(c);
    }
  }

  /** @param {string|ArrayBuffer} data */
  receive(data) {
    if (typeof data === "string") {
      if (data === "") return; // keepalive
      return this.protocolError("a text frame after the handshake with the glyph codec");
    }
    if (data.byteLength === 0) return;
    if (data.byteLength > this.maxFrame) {
      this.ws.close(1009, "frame too large");
      return this.shutdown(new GlyphError("too_large", `${this.url}: frame of ${data.byteLength} bytes over the limit of ${this.maxFrame}`));
    }
    let env;
    try {
      env = decode(new Uint8Array(data), { limits: this.limits });
    } catch (e) {
      return this.protocolError(e instanceof DecodeError ? e.message : String(e));
    }
    if (env === null || typeof env !== "object" || Object.getPrototypeOf(env) !== Object.prototype) {
      return this.protocolError("envelope is not a map with string keys");
    }
    const id = typeof env.id === "number" ? env.id : 0;
    switch (env.type) {
      case "rep": {
        const c = this.calls.get(id);
        if (!c || c.done) return; // ids not (or no longer) in use are ignored
        if (env.error) return c.end(remoteError(c.method, env.error));
        if (env.more === true) c.streamed = true;
        if (c.items.length >= MAX_UNREAD) return this.cancel(c);
        c.items.push(attach(env.payload ?? null, pathOf(c.method), this.navigator));
        if (env.more !== true) c.end(null);
        else c.notify();
        return;
      }
      case "repend":
        this.calls.get(id)?.end(null);
        return;
      case "req":
        return this.serve(env, id);
      case "reqend": {
        const c = this.serving.get(id);
        if (c?.streaming) this.runHandler(id, c, c.items);
        return;
      }
      case "cancel":
        this.serving.get(id)?.abort.abort();
        this.serving.delete(id);
        return;
      case "goaway":
        return; // serve on; the remote closes when it is done
    }
    this.protocolError(`envelope type ${JSON.stringify(env.type)}`);
  }

  /** @param {Record<string, any>} env @param {number} id */
  serve(env, id) {
    const known = id ? this.serving.get(id) : undefined;
    if (known) {
      // A further argument of a streamed call; dropped once the handler
      // runs (a caller never reuses an id).
      if (!known.streaming) return;
      if ("payload" in env) known.items.push(env.payload);
      if (env.more !== true && !this.extensions.has("end")) this.runHandler(id, known, known.items);
      return;
    }
    /** @type {Serving} */
    const c = { method: String(env.method ?? ""), ext: env.ext, items: [], abort: new AbortController(), streaming: env.more === true && id > 0 };
    if (id) this.serving.set(id, c);
    if (c.streaming) {
      if (!env.open) c.items.push(env.payload);
      return;
    }
    this.runHandler(id, c, env.payload ?? null);
  }

  /**
   * Runs the handler of a call and replies.
   * @param {number} id 0 for a notification @param {Serving} c @param {any} payload
   */
  async runHandler(id, c, payload) {
    c.streaming = false;
    const { method, ext, abort } = c;
    const reply = (/** @type {Record<string, any>} */ env) => {
      if (!id || abort.signal.aborted || this.failure) return;
      this.answer({ type: "rep", id, ...env, ...(ext !== undefined && ext !== null && { ext }) });
    };
    const h = this.handlers.get(method);
    try {
      if (!h) throw new GlyphError("not_found", `method not found: ${method}`);
      const v = await h(payload, { method, ext, signal: abort.signal });
      if (v && typeof v === "object" && typeof v[Symbol.asyncIterator] === "function") {
        let held = { has: false, v: /** @type {any} */ (null) };
        const end = this.extensions.has("end");
        for await (const x of v) {
          if (abort.signal.aborted) break;
          if (end) reply({ payload: x, more: true });
          else {
            if (held.has) reply({ payload: held.v, more: true });
            held = { has: true, v: x };
          }
        }
        if (!end) reply({ payload: held.has ? held.v : [] }); // (the baseline: the last one without more)
        else if (id && !abort.signal.aborted && !this.failure) this.answer({ type: "repend", id });
      } else {
        reply({ payload: v === undefined ? null : v });
      }
    } catch (e) {
      const kind = e instanceof GlyphError ? e.kind : "internal";
      const message = e instanceof Error ? e.message : String(e);
      try {
        reply({ error: { code: e instanceof GlyphError && e.code ? e.code : codeOfKind(kind), message } });
      } catch {
        // An error message that cannot be encoded either: nothing to say.
      }
    } finally {
      if (id) this.serving.delete(id);
    }
  }

  /** @param {string} why */
  protocolError(why) {
    try {
      this.ws.close(1002, "protocol error");
    } catch {
      // already closing
    }
    this.shutdown(new GlyphError("bad_frame", `${this.url}: protocol error: ${why}`));
  }

  /** @param {GlyphError} err */
  shutdown(err) {
    if (this.failure) return;
    this.failure = err;
    for (const c of [...this.calls.values()]) c.end(err);
    for (const s of this.serving.values()) s.abort.abort();
    this.serving.clear();
    for (const w of this.waiting.splice(0)) w();
    try {
      this.ws.close(1000);
    } catch {
      // already closed
    }
    this.onClosed?.();
  }
}

/** @param {string} method @param {any} e */
function remoteError(method, e) {
  const code = typeof e?.code === "number" ? e.code : 0;
  const data = e?.data;
  const op = typeof data?.op === "string" ? data.op : method;
  const logref = typeof data?.logref === "string" ? data.logref : "";
  return new GlyphError(kindOfCode(code), String(e?.message ?? "error"), { code, op, logref, data });
}

/** The path a method names, for resolving the URLs in its results. @param {string} method */
function pathOf(method) {
  return method.startsWith("/") ? method : "/" + method;
}

function randomId() {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return Math.random().toString(16).slice(2) + Date.now().toString(16);
}

/** Navigation over a peer connection. @implements {import("./nav.js").Navigator} */
class PeerNavigator {
  /** @param {Peer} p */
  constructor(p) {
    this.p = p;
  }

  /** @param {string} base @param {string} url */
  resolve(base, url) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
    const u = new URL(url, "http://peer" + base);
    return u.pathname + u.search;
  }

  /** @param {Link} link @param {import("./nav.js").CallOptions} [opts] */
  follow(link, opts) {
    return this.p.call(hrefOf(link), null, { safe: true, signal: opts?.signal, ext: opts?.headers });
  }

  /**
   * @param {import("./values.js").Form} form @param {import("./values.js").OrderedDict} args
   * @param {Set<string>} given @param {import("./nav.js").CallOptions} [opts]
   */
  async submit(form, args, given, opts) {
    const { payload, releases } = this.payload(args);
    try {
      return await this.p.call(hrefOf(form), payload, { safe: isGet(form), signal: opts?.signal, ext: opts?.headers });
    } finally {
      for (const r of releases) r();
    }
  }

  /**
   * @param {import("./values.js").Form} form @param {import("./values.js").OrderedDict} args
   * @param {Set<string>} _given @param {import("./nav.js").CallOptions} [opts]
   */
  async *submitStream(form, args, _given, opts) {
    const { payload, releases } = this.payload(args);
    try {
      yield* this.p.stream(hrefOf(form), payload, { safe: isGet(form), signal: opts?.signal, ext: opts?.headers });
    } finally {
      for (const r of releases) r();
    }
  }

  /**
   * The arguments as a call's payload: functions among them are
   * callbacks, registered until release.
   * @param {import("./values.js").OrderedDict} args
   */
  payload(args) {
    /** @type {Record<string, any>} */
    const payload = {};
    /** @type {(() => void)[]} */
    const releases = [];
    for (const [k, v] of args) {
      if (typeof v === "function") {
        const [name, release] = this.p.callback(v);
        releases.push(release);
        payload[k] = name;
      } else {
        payload[k] = v;
      }
    }
    return { payload, releases };
  }
}

/** @param {import("./values.js").Form} form */
function isGet(form) {
  return String(form.attr("method") ?? "POST").toUpperCase() === "GET";
}
