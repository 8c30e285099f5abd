package hyperhttp

import (
	"net/http"

	"github.com/glyph-ipc/glyph/service"
)

// cacheHeaders sets Cache-Control: calls with side effects are never
// stored; safe answers are revalidated with their ETag before reuse, by
// shared caches after the lifetime WithSharedCache gave them, unless the
// function chose its own Cache-Control.
func (h *Handler) cacheHeaders(hdr http.Header, res *service.Result) {
	switch {
	case !res.Cacheable:
		hdr["Cache-Control"] = hdrNoStore
	case res.CacheControl != "":
		hdr.Set("Cache-Control", res.CacheControl)
	case h.cfg.sharedCache != nil:
		hdr["Cache-Control"] = h.cfg.sharedCache
	default:
		hdr["Cache-Control"] = hdrNoCache
	}
}
