package rpcmap

import (
	"slices"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// BindPayload sets req's arguments from a decoded glyph payload, by the
// convention of the transports that carry one value per call (peers,
// NATS): a list is the positional arguments, a dict (or ordered dict)
// the named ones, nil none, and any other value the one positional
// argument.
func BindPayload(req *service.Request, p any) {
	switch x := p.(type) {
	case nil:
	case []any:
		req.Positional = x
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic, though Serve binds by name
		d := wire.NewOrderedDict()
		for _, k := range keys {
			d.Set(k, x[k])
		}
		req.Args = d
	case *wire.OrderedDict:
		req.Args = x
	default:
		req.Positional = []any{p}
	}
}
