// The navigating client: it GETs one URL, then follows the links and calls
// the forms the server hands it, over HTTP (fetch) or over peer
// connections (ws:// and wss:// URLs).

import { DecodeError, MEDIA_TYPE, decode, encode } from "./codec.js";
import { GlyphError, kindOfStatus } from "./errors.js";
import { attach, hrefOf } from "./nav.js";
import { connect } from "./peer.js";
import { ErrorExtension, GlyphBlob, Link } from "./values.js";

/**
 * What requests accept: hyperglyph, and anything else less: a result that
 * is a single blob then comes as the raw body with its own type.
 */
const ACCEPT = `${MEDIA_TYPE}, */*;q=0.1`;

/** The envelope each method sends by default (hyperglyph-wire.md, section 3). */
const defaultEnvelope = { GET: "query", POST: "form", PUT: "blob", PATCH: "blob", DELETE: "none" };

/**
 * @typedef {object} ClientOptions
 * @property {typeof globalThis.fetch} [fetch] the fetch to use (globalThis.fetch)
 * @property {Record<string, string>} [headers] headers sent with every HTTP request
 * @property {Partial<import("./codec.js").DEFAULT_LIMITS>} [limits] decoding limits
 * @property {import("./peer.js").PeerOptions} [peer] options for peer connections
 */

/**
 * A navigating client. get(url) returns the decoded page, whose links
 * (link.get()), forms (form.call(args)) and resources
 * (resource.call(name, args)) make the next requests.
 */
export class Client {
  /** @param {ClientOptions} [options] */
  constructor(options = {}) {
    if (typeof (options.fetch ?? globalThis.fetch) !== "function") throw new TypeError("glyph: no fetch: pass one as the fetch option");
    /** @type {typeof globalThis.fetch} (a browser's fetch must be called on the window) */
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = options.headers ?? {};
    this.limits = options.limits;
    this.peerOptions = options.peer ?? {};
    /** @type {Map<string, Promise<import("./peer.js").Peer>>} the peer connections, by endpoint */
    this.peers = new Map();
    this.http = new HTTPNavigator(this);
  }

  /**
   * Reads the page at url: an http(s) URL, or a peer endpoint (ws://,
   * wss://) optionally followed by #path.
   * @param {string} url @param {import("./nav.js").CallOptions} [opts]
   */
  async get(url, opts) {
    if (/^wss?:\/\//i.test(url)) {
      const [endpoint, path = "/"] = url.split("#");
      const p = await this.peer(endpoint);
      return p.navigator.follow(new Link("link", { method: "GET", url: path.startsWith("/") ? path : "/" + path }), opts);
    }
    return this.http.follow(new Link("link", { method: "GET", url }), opts);
  }

  /** The connection to a peer endpoint, made once. @param {string} endpoint */
  peer(endpoint) {
    let p = this.peers.get(endpoint);
    if (!p) {
      p = connect(endpoint, { limits: this.limits, ...this.peerOptions });
      p.catch(() => this.peers.delete(endpoint));
      this.peers.set(endpoint, p);
      p.then((c) => c.closed.then(() => this.peers.get(endpoint) === p && this.peers.delete(endpoint)));
    }
    return p;
  }

  /** Closes the client's peer connections. */
  async close() {
    const all = [...this.peers.values()];
    this.peers.clear();
    for (const p of all) await p.then((c) => c.close(), () => {});
  }
}

/** Navigation over HTTP. @implements {import("./nav.js").Navigator} */
class HTTPNavigator {
  /** @param {Client} c */
  constructor(c) {
    this.c = c;
  }

  /** @param {string} base @param {string} url */
  resolve(base, url) {
    return new URL(url, base).href;
  }

  /** @param {Link} link @param {import("./nav.js").CallOptions} [opts] */
  follow(link, opts) {
    const h = link.attr("headers");
    return this.request(hrefOf(link), { method: "GET", headers: { ...plainHeaders(h), ...opts?.headers }, signal: opts?.signal });
  }

  /**
   * @param {import("./values.js").Form} form @param {import("./values.js").OrderedDict} args
   * @param {Set<string>} given @param {import("./nav.js").CallOptions} [opts]
   */
  submit(form, args, given, opts) {
    const method = String(form.attr("method") ?? "POST").toUpperCase();
    const envelope = String(form.attr("envelope") ?? defaultEnvelope[method] ?? "none").toLowerCase();
    let url = hrefOf(form);
    const op = `${method} ${url}`;
    /** @type {Record<string, string>} */
    const headers = { ...plainHeaders(form.attr("headers")), ...opts?.headers };
    /** @type {BodyInit|undefined} */
    let body;
    switch (envelope) {
      case "query": {
        if (args.size > 0) {
          const u = new URL(url);
          u.search = "?" + escapeQuery(encodeArgs(args, op));
          url = u.href;
        }
        break;
      }
      case "form":
        body = encodeArgs(args, op);
        headers["Content-Type"] = MEDIA_TYPE;
        break;
      case "blob": {
        const names = [...given];
        if (names.length > 1) throw new GlyphError("invalid", `${op}: the blob envelope sends one argument, got ${names.join(", ")}`, { op });
        if (names.length === 1) {
          const v = args.get(names[0]);
          const blob = v instanceof GlyphBlob ? v : new GlyphBlob(v instanceof Uint8Array || typeof v === "string" ? v : encodeArgs(v, op), "application/octet-stream");
          body = blob.data;
          headers["Content-Type"] = blob.contentType;
          headers["Content-Disposition"] = `form-data; name="${names[0]}"`;
        }
        break;
      }
      case "none":
        if (given.size > 0) throw new GlyphError("invalid", `${op}: the form sends no arguments (envelope none)`, { op });
        break;
      default:
        throw new GlyphError("unsupported", `${op}: unknown envelope ${JSON.stringify(envelope)}`, { op });
    }
    return this.request(url, { method, headers, body, signal: opts?.signal });
  }

  /**
   * Makes a request and returns its answer: the decoded page, null for
   * 204, a link for 201, a GlyphBlob for a body of another type; a
   * GlyphError for a status of 400 or more.
   * @param {string} url @param {{method: string, headers: Record<string, string>, body?: BodyInit, signal?: AbortSignal}} req
   */
  async request(url, req) {
    const op = `${req.method} ${url}`;
    /** @type {Response} */
    let res;
    try {
      res = await this.c.fetch(url, {
        method: req.method,
        headers: { Accept: ACCEPT, ...this.c.headers, ...req.headers },
        body: req.body,
        redirect: "follow",
        signal: req.signal,
      });
    } catch (e) {
      if (req.signal?.aborted) throw new GlyphError("canceled", `${op}: canceled`, { op, cause: e });
      throw new GlyphError("unavailable", `${op}: ${e instanceof Error ? e.message : e}`, { op, cause: e });
    }
    const base = res.url || url;
    const ct = res.headers.get("Content-Type") ?? "";
    const glyph = ct.split(";")[0].trim().toLowerCase() === MEDIA_TYPE;
    if (res.status >= 400) {
      let v;
      if (glyph) v = this.decodeBody(new Uint8Array(await res.arrayBuffer()), op, res.status);
      if (v instanceof ErrorExtension) {
        const message = String(v.attr("message") ?? res.statusText);
        const logref = String(v.attr("logref") ?? "");
        throw new GlyphError(kindOfStatus(res.status), message, { logref, status: res.status, op, data: v.content });
      }
      throw new GlyphError(kindOfStatus(res.status), `${op}: ${res.status} ${res.statusText}`, { status: res.status, op });
    }
    if (res.status === 204) return null;
    if (res.status === 201) {
      const loc = res.headers.get("Location");
      if (!loc) return null;
      return attach(new Link("link", { method: "GET", url: new URL(loc, base).href }), base, this);
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (!glyph) return new GlyphBlob(body, ct || "application/octet-stream", { url: base });
    return attach(this.decodeBody(body, op, res.status), base, this);
  }

  /** @param {Uint8Array} body @param {string} op @param {number} status */
  decodeBody(body, op, status) {
    try {
      return decode(body, { limits: this.c.limits });
    } catch (e) {
      if (e instanceof DecodeError) throw new GlyphError("bad_frame", `${op}: the answer (${status}) is not valid hyperglyph: ${e.message}`, { op, status, cause: e });
      throw e;
    }
  }
}

/** @param {any} v @param {string} op */
function encodeArgs(v, op) {
  try {
    return encode(v);
  } catch (e) {
    throw new GlyphError("invalid", `${op}: cannot encode the arguments: ${e instanceof Error ? e.message : e}`, { op, cause: e });
  }
}

/** A form's or link's headers attribute as fetch headers. @param {any} h */
function plainHeaders(h) {
  /** @type {Record<string, string>} */
  const out = {};
  if (h instanceof Map) for (const [k, v] of h) out[String(k)] = String(v);
  else if (h && typeof h === "object") for (const [k, v] of Object.entries(h)) out[k] = String(v);
  return out;
}

/**
 * Percent-encodes the bytes of an encoded query: everything but the
 * unreserved characters of RFC 3986, so `+` is `%2B`.
 * @param {Uint8Array} b
 */
export function escapeQuery(b) {
  let s = "";
  for (const c of b) {
    const ch = String.fromCharCode(c);
    s += /[A-Za-z0-9\-._~]/.test(ch) ? ch : "%" + c.toString(16).toUpperCase().padStart(2, "0");
  }
  return s;
}
