package hyperhttp

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/glyph-ipc/glyph/internal/ratelimit"
	"github.com/glyph-ipc/glyph/service"
)

// maxRateKeys bounds the remote addresses a Handler keeps a rate of
// (about 100 bytes each); past it, new addresses share one.
const maxRateKeys = 100_000

// WithRateLimit bounds the requests from each remote IP address to
// perSecond on average, and burst at once after a quiet spell (a token
// bucket per address). A request over it is answered 503 with a
// Retry-After header that says when the next one is admitted, and a
// hyperglyph error body of kind [service.KindOverloaded] (rather than
// 429, which clients read as a bad request: glyph clients back off and
// retry on an overloaded server), and logged at info level.
//
// The address is the connection's (the request's RemoteAddr): behind a
// reverse proxy, every request comes from the proxy's. The handler keeps
// a bucket for at most 100,000 addresses; a bucket is forgotten once it
// refills. The default, and perSecond ≤ 0, is no limit, as in net/http,
// grpc-go and NATS; [LimitListener] bounds the connections instead.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) { c.ratePerSecond, c.rateBurst = perSecond, burst }
}

// admit takes a request's token from its remote address's bucket, or
// answers it 503 and reports false.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ok, wait := h.rate.Take(host, time.Now())
	if ok {
		return true
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	h.writeError(w, r, &service.Error{Kind: service.KindOverloaded,
		Message: "too many requests from " + host + " (limit " + strconv.FormatFloat(h.cfg.ratePerSecond, 'g', -1, 64) + " a second)"})
	return false
}

func newRateLimit(cfg *config) *ratelimit.Keyed {
	if cfg.ratePerSecond <= 0 {
		return nil
	}
	return ratelimit.NewKeyed(cfg.ratePerSecond, cfg.rateBurst, maxRateKeys)
}
