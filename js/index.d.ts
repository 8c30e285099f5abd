// Types of @glyph-ipc/glyph: the hyperglyph codec, the navigating client
// and peers. The implementation is plain JavaScript in src/.

// Values.

/** Any value the codec writes or reads. */
export type GlyphValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Float
  | Uint8Array
  | ArrayBuffer
  | Date
  | DateTime
  | Duration
  | GlyphValue[]
  | Set<GlyphValue>
  | Map<GlyphValue, GlyphValue>
  | OrderedDict
  | Extension
  | GlyphBlob
  | { [key: string]: GlyphValue };

/** A float that stays a float on the wire although its value is integral (1.0, -0.0). */
export class Float {
  constructor(value: number);
  value: number;
  valueOf(): number;
  toJSON(): number;
}

/** A dict that keeps its order: encoded as an ordered dict (`O`). */
export class OrderedDict<K = GlyphValue, V = GlyphValue> extends Map<K, V> {}

/** A Date with the microseconds past its millisecond. */
export class DateTime extends Date {
  constructor(ms: number | string | Date, micros?: number);
  /** Microseconds past the millisecond, 0 to 999. */
  micros: number;
  /** Microseconds since the epoch. */
  readonly epochMicros: bigint;
  static fromEpochMicros(us: bigint): DateTime;
}

/** A timedelta: years, months and an exact duration in nanoseconds, all of one sign. */
export class Duration {
  constructor(parts?: { years?: bigint | number; months?: bigint | number; nanoseconds?: bigint | number });
  years: bigint;
  months: bigint;
  nanoseconds: bigint;
  static fromMilliseconds(ms: number): Duration;
  /** The exact part in milliseconds. */
  readonly milliseconds: number;
  /** The ISO 8601 form, such as P0Y0M3DT2H0M0S. */
  toString(): string;
}

/** Options of a call made by following a link or calling a form. */
export interface CallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
  /** Headers (over peers: the call's ext). */
  headers?: Record<string, string>;
}

/** An argument of a form: a value, a Blob (a browser's File: sent as a blob), or over peers a callback. */
export type FormArg = GlyphValue | Blob | ((...args: any[]) => any);
/** Arguments of a form: by position or by name. */
export type FormArgs = FormArg[] | Record<string, FormArg> | Map<string, FormArg> | null | undefined;

/** An extension `X name attrs content ;`: unknown ones are kept as they are. */
export class Extension {
  constructor(name: string, attrs?: Record<string, GlyphValue> | Map<GlyphValue, GlyphValue>, content?: GlyphValue);
  name: string;
  attrs: Record<string, GlyphValue> | Map<GlyphValue, GlyphValue>;
  content: GlyphValue;
  attr(key: string): any;
  hasAttr(key: string): boolean;
  /** The url attribute, "" when absent. */
  readonly url: string;
}

/** A link: following it makes a GET. */
export class Link extends Extension {
  /** Its inline content, or the page at its URL. */
  get(opts?: CallOptions): Promise<any>;
}

/** A form: a callable whose inputs are in its values attribute. */
export class Form extends Extension {
  /** Calls the form: arguments by position (an array) or by name (an object); inputs not given take their defaults. */
  call(args?: FormArgs, opts?: CallOptions): Promise<any>;
  /** Calls the form and yields its results as they stream (over peers). */
  stream(args?: FormArgs, opts?: CallOptions): AsyncIterable<any>;
}

/** An input of a form. */
export class Input extends Extension {
  readonly inputName: string;
}

/** A resource: data, links and forms in its content. */
export class Resource extends Extension {
  /** Its name attribute, such as its class. */
  readonly resourceName: string;
  /** The item name of its content. */
  get(name: string): any;
  /** Calls the form, or follows the link, called name. */
  call(name: string, args?: FormArgs, opts?: CallOptions): Promise<any>;
  /** Reads the resource again from its URL. */
  reload(opts?: CallOptions): Promise<any>;
}

/** An error answer. */
export class ErrorExtension extends Extension {}

/** The Extension class of each hypermedia extension name. */
export const extensionTypes: Record<string, typeof Extension>;
export function makeExtension(name: string, attrs: Record<string, GlyphValue> | Map<GlyphValue, GlyphValue>, content: GlyphValue): Extension;

/** A blob: bytes with a content type and other attributes. */
export class GlyphBlob {
  constructor(data: Uint8Array | string, contentType?: string, attrs?: Record<string, GlyphValue>);
  data: Uint8Array;
  attrs: Record<string, GlyphValue>;
  readonly contentType: string;
  readonly size: number;
  text(): string;
}

// The codec.

export const MEDIA_TYPE: "application/vnd.hyperglyph";

export interface Limits {
  maxMessageBytes: number;
  maxDepth: number;
  maxItems: number;
  maxStringBytes: number;
  maxIntegerDigits: number;
  maxBlobs: number;
  maxBlobBytes: number;
}
export const DEFAULT_LIMITS: Readonly<Limits>;

export class DecodeError extends Error {
  offset: number;
}
export class LimitError extends DecodeError {
  /** The limit crossed, such as "maxDepth". */
  limit: keyof Limits;
}
export class UnsupportedValueError extends Error {}

/** The canonical encoding of value, blob chunks after the root. */
export function encode(value: GlyphValue, options?: { chunkSize?: number }): Uint8Array;
/** Decodes one message; throws DecodeError on bad input. */
export function decode(data: Uint8Array | ArrayBuffer | string, options?: { limits?: Partial<Limits> }): any;
export function compareKeys(a: Uint8Array, b: Uint8Array): number;
export function formatFloat(f: number): string;
export function parseFloatToken(t: string): number | undefined;

// Errors.

/** glyph's kinds of failure. */
export type Kind =
  | "other"
  | "invalid"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "too_large"
  | "unsupported"
  | "unauthenticated"
  | "permission_denied"
  | "canceled"
  | "deadline_exceeded"
  | "unavailable"
  | "internal"
  | "unimplemented"
  | "overloaded"
  | "bad_frame";

/** A failed call. */
export class GlyphError extends Error {
  constructor(kind: Kind | string, message: string, details?: { logref?: string; status?: number; code?: number; op?: string; data?: any; cause?: unknown });
  kind: Kind | string;
  /** Finds the failure in the server's log; "" when none. */
  logref: string;
  /** The HTTP status, 0 over peers. */
  status: number;
  /** The peer error code, 0 over HTTP. */
  code: number;
  op: string;
  data: any;
}
export function kindOfStatus(status: number): string;
export function kindOfCode(code: number): string;
export function codeOfKind(kind: string): number;

// Navigation: the client.

export function bindArgs(form: Form, args: FormArgs): { args: OrderedDict<string, any>; given: Set<string> };
/** The absolute URL of a link, form or resource a client fetched. */
export function hrefOf(x: Extension): string;

export interface ClientOptions {
  /** The fetch to use (globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
  /** Headers sent with every HTTP request. */
  headers?: Record<string, string>;
  limits?: Partial<Limits>;
  /** Options of the peer connections ws:// URLs open. */
  peer?: PeerOptions;
}

/** The navigating client, over HTTP (http://, https://) and peers (ws://, wss://). */
export class Client {
  constructor(options?: ClientOptions);
  /** The page at url. */
  get(url: string, opts?: CallOptions): Promise<any>;
  /** The connection to a peer endpoint. */
  peer(endpoint: string): Promise<Peer>;
  /** Closes the peer connections. */
  close(): Promise<void>;
}
export function escapeQuery(b: Uint8Array): string;

// Peers.

export interface PeerOptions {
  /** The WebSocket constructor (globalThis.WebSocket). */
  WebSocket?: any;
  limits?: Partial<Limits>;
  /** The largest frame accepted (4 MiB). */
  maxFrameBytes?: number;
  /** Milliseconds the connection and handshake may take (10 000). */
  timeout?: number;
  /** Methods served from the start. */
  handlers?: Record<string, Handler>;
  /** How many of the remote's calls are served at once (256). */
  streams?: number;
}

/** A method this side serves: its result, a promise of it, or an async iterable of results. */
export type Handler = (payload: any, call: { method: string; ext: any; signal: AbortSignal }) => any;

export interface PeerCallOptions {
  signal?: AbortSignal;
  /** Metadata sent with the call. */
  ext?: any;
  /** The call only reads. */
  safe?: boolean;
  /** Streams these arguments instead of the payload. */
  args?: Iterable<any> | AsyncIterable<any>;
}

/** A connection to a glyph peer. */
export class Peer {
  readonly url: string;
  /** The extensions the handshake settled. */
  readonly extensions: Set<string>;
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  /** The one result, or the array of them when they streamed. */
  call(method: string, payload?: GlyphValue, opts?: PeerCallOptions): Promise<any>;
  /** The results as they arrive; ending early cancels the call. */
  stream(method: string, payload?: GlyphValue, opts?: PeerCallOptions): AsyncIterable<any>;
  notify(method: string, payload?: GlyphValue, opts?: { ext?: any }): void;
  /** Serves name; returns the function that stops serving it. */
  register(name: string, handler: Handler): () => void;
  /** Registers fn under a fresh callback name: [name, release]. */
  callback(fn: (...args: any[]) => any): [string, () => void];
  /** The page at path on this connection ("/": the index). */
  get(path?: string): Promise<any>;
  close(): Promise<void>;
}

/** Connects to a glyph peer at a ws:// or wss:// URL. */
export function connect(url: string, options?: PeerOptions): Promise<Peer>;
