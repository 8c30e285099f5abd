package remote

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/client"
	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
)

// Client is a Go client of a remote, over HTTP ("http://host:port/") or a
// peer connection ("ws://host:port/peer"). It logs in with an identity,
// or a device of one, keeps the session, logs in again when the session
// ends and retries a call once when its connection went down (every call
// of the remote may be repeated: publishing a record twice stores it once).
// It is safe for concurrent use.
type Client struct {
	url    string
	gc     *client.Client
	own    bool // Dial made gc; Close closes it
	id     *record.Identity
	signer *record.Signer
	expect string // the server name a challenge must carry
	follow bool   // the URL is a peer's: subscriptions follow the log
	poll   time.Duration

	mu      sync.Mutex // guards api, sub and session
	bound   bool
	api     api
	sub     *client.Value
	session Session
}

// api is the remote's service as the client calls it.
type api struct {
	Challenge  func(context.Context) (Challenge, error)
	Login      func(context.Context, client.Named) (Session, error)
	Publish    func(context.Context, string, [][]byte) ([]Published, error)
	Get        func(context.Context, string, []byte) ([]byte, error)
	Bindings   func(context.Context, string, []byte) ([][]byte, error)
	Debindings func(context.Context, string, []byte) ([][]byte, error)
	// PublishNamed is publish with its uploads.
	PublishNamed func(context.Context, client.Named) ([]Published, error)             `glyph:"publish"`
	Upload       func(context.Context, string, []byte, int64) (Upload, error)         `glyph:"upload,optional"`
	Append       func(context.Context, string, string, int64, []byte) (Upload, error) `glyph:"append,optional"`
	Read         func(context.Context, string, []byte, int64, int64) (Chunk, error)   `glyph:"read,optional"`
}

// A ClientOption changes a [Client].
type ClientOption func(*Client)

// WithGlyphClient makes the client call through gc (for its TLS, peer and
// header options) instead of a client of its own; Close leaves gc open.
func WithGlyphClient(gc *client.Client) ClientOption {
	return func(c *Client) { c.gc, c.own = gc, false }
}

// WithServerName makes the client log in only to a server of that name
// (default: the host and port of the URL), as [New] names it.
func WithServerName(name string) ClientOption { return func(c *Client) { c.expect = name } }

// WithPollInterval makes a subscription over HTTP ask for changes every d
// (default a second). Over a peer URL changes are pushed instead.
func WithPollInterval(d time.Duration) ClientOption { return func(c *Client) { c.poll = d } }

// Dial returns a client of the remote at rawURL that logs in as id,
// signing with signer (the identity's keys, [record.Keys.Signer], or a
// device's, [record.DeviceSigner]). It logs in at once, so that a wrong
// URL, name or key fails here.
func Dial(ctx context.Context, rawURL string, id *record.Identity, signer *record.Signer, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	if signer.Owner() != id.Fingerprint() {
		return nil, fmt.Errorf("remote: the signer signs for %s, not for %s", signer.Owner(), id.Fingerprint())
	}
	c := &Client{url: rawURL, id: id, signer: signer, expect: u.Host, own: true, poll: time.Second,
		follow: u.Scheme != "http" && u.Scheme != "https"}
	for _, o := range opts {
		o(c)
	}
	if c.gc == nil {
		c.own = true
		c.gc = client.New()
	}
	if _, err := c.token(ctx, ""); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the client's connections, unless they were given with
// [WithGlyphClient].
func (c *Client) Close() error {
	if c.own {
		return c.gc.Close()
	}
	return nil
}

// Session returns the client's current session.
func (c *Client) Session() Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// bind fetches the remote's index and binds the api, once.
func (c *Client) bind(ctx context.Context) error {
	if c.bound {
		return nil
	}
	index, err := c.gc.Get(ctx, c.url)
	if err != nil {
		return err
	}
	if err := index.Bind(&c.api); err != nil {
		return fmt.Errorf("remote: %s is not a glyph remote: %w", c.url, err)
	}
	if c.sub, err = index.Get("subscribe"); err != nil {
		return fmt.Errorf("remote: %s is not a glyph remote: %w", c.url, err)
	}
	c.bound = true
	return nil
}

// token returns a session token: the current one, or a new one when there
// is none or it is stale (the token a call was refused with).
func (c *Client) token(ctx context.Context, stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session.Token != "" && c.session.Token != stale && time.Now().Before(c.session.Expires) {
		return c.session.Token, nil
	}
	if err := c.bind(ctx); err != nil {
		return "", err
	}
	ch, err := c.api.Challenge(ctx)
	if err != nil {
		return "", err
	}
	if ch.Server != c.expect {
		return "", fmt.Errorf("remote: the server at %s calls itself %q, not %q", c.url, ch.Server, c.expect)
	}
	proof, err := c.signer.SignProof(LoginPurpose, LoginMessage(ch.Server, ch.Nonce, c.id.Fingerprint()))
	if err != nil {
		return "", err
	}
	args := client.Named{"identity": c.id.Bytes(), "nonce": ch.Nonce, "proof": proof}
	if d := c.signer.Device(); d != nil {
		args["device"] = d.Bytes()
	}
	s, err := c.api.Login(ctx, args)
	if err != nil {
		return "", err
	}
	c.session = s
	return s.Token, nil
}

// call runs f with a session token, and again (twice at most) with a new
// session when the session was refused, or when the connection went down.
func call[T any](ctx context.Context, c *Client, f func(api, string) (T, error)) (T, error) {
	stale := ""
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, stale)
		if err != nil {
			var zero T
			return zero, err
		}
		c.mu.Lock()
		a := c.api
		c.mu.Unlock()
		v, err := f(a, tok)
		switch {
		case attempt == 2 || err == nil:
			return v, err
		case ReasonOf(err) == ReasonUnauthenticated:
			stale = tok
		case !peer.Retryable(err) || ctx.Err() != nil:
			return v, err
		}
	}
}

// Publish publishes records in order, in one call: each is verified and
// stored, or the call fails at the first one refused (whose index the
// error's message names; [ReasonOf] says why), the ones before it
// stored. A container must come before the frame, binding or hold that
// keeps it alive. A writer may make several calls at once: the frames of
// a later call wait on the remote for those of an earlier one (up to
// [GapWait]), so that pipelined calls publish a chain in order.
func (c *Client) Publish(ctx context.Context, records ...[]byte) ([]Published, error) {
	return call(ctx, c, func(a api, tok string) ([]Published, error) { return a.Publish(ctx, tok, records) })
}

// Get returns the record at addr, or the newest frame of the dynamic
// object whose id is addr.
func (c *Client) Get(ctx context.Context, addr record.Address) ([]byte, error) {
	return call(ctx, c, func(a api, tok string) ([]byte, error) { return a.Get(ctx, tok, addr.Bytes()) })
}

// Bindings returns the records of the bindings and holds of target that
// are not debound, oldest first.
func (c *Client) Bindings(ctx context.Context, target record.Address) ([][]byte, error) {
	return call(ctx, c, func(a api, tok string) ([][]byte, error) { return a.Bindings(ctx, tok, target.Bytes()) })
}

// Debindings returns the records of the debindings of target, oldest
// first.
func (c *Client) Debindings(ctx context.Context, target record.Address) ([][]byte, error) {
	return call(ctx, c, func(a api, tok string) ([][]byte, error) { return a.Debindings(ctx, tok, target.Bytes()) })
}

// A Subscription selects changes: those of some objects (dynamic object
// ids, or records' addresses for their bindings and debindings), those of
// the client's mailbox, or both, after the cursor Since.
type Subscription struct {
	Objects []record.Address
	Mailbox bool
	Since   uint64
}

// Changes returns the changes sub selects that the remote has now, up to
// a thousand; call again from the last one's Seq for more.
func (c *Client) Changes(ctx context.Context, sub Subscription) ([]Change, error) {
	return call(ctx, c, func(_ api, tok string) ([]Change, error) {
		var out []Change
		for ch, err := range c.stream(ctx, tok, sub, true) {
			if err != nil {
				return nil, err
			}
			out = append(out, ch)
		}
		return out, nil
	})
}

// Subscribe yields the changes sub selects, those stored already and then
// each as it is stored, until ctx ends or the loop stops. When the
// connection goes down or the session ends it connects and logs in again
// and resumes after the last change it yielded, so nothing is missed or
// repeated; other errors are yielded, last. Over a peer URL changes are
// pushed as they are stored; over HTTP the client asks every second
// ([WithPollInterval]).
func (c *Client) Subscribe(ctx context.Context, sub Subscription) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		backoff := 50 * time.Millisecond
		stale := ""
		for {
			tok, err := c.token(ctx, stale)
			if err != nil && !peer.Retryable(err) {
				yield(Change{}, err)
				return
			}
			if err == nil {
				for ch, err := range c.stream(ctx, tok, sub, !c.follow) {
					if err != nil {
						if ReasonOf(err) == ReasonUnauthenticated {
							stale = tok
							break
						}
						if !peer.Retryable(err) || ctx.Err() != nil {
							yield(Change{}, err)
							return
						}
						break
					}
					backoff = 50 * time.Millisecond
					sub.Since = ch.Seq
					if !yield(ch, nil) {
						return
					}
				}
			}
			wait := backoff
			if !c.follow && err == nil {
				wait = c.poll
			} else {
				backoff = min(2*backoff, 5*time.Second)
			}
			select {
			case <-ctx.Done():
				yield(Change{}, ctx.Err())
				return
			case <-time.After(wait):
			}
		}
	}
}

// stream calls subscribe once.
func (c *Client) stream(ctx context.Context, tok string, sub Subscription, once bool) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		c.mu.Lock()
		fn := c.sub
		c.mu.Unlock()
		objects := make([][]byte, len(sub.Objects))
		for i, o := range sub.Objects {
			objects[i] = o.Bytes()
		}
		args := client.Named{"session": tok, "objects": objects, "mailbox": sub.Mailbox, "since": sub.Since, "once": once}
		for v, err := range fn.Stream(ctx, args) {
			if err != nil {
				yield(Change{}, err)
				return
			}
			var ch Change
			if err := v.Decode(&ch); err != nil {
				yield(Change{}, &service.Error{Kind: service.KindInvalid, Message: "remote: a change that does not decode: " + err.Error(), Err: err})
				return
			}
			if !yield(ch, nil) {
				return
			}
		}
	}
}
