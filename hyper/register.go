package hyper

import "github.com/glyph-ipc/glyph/wire"

// Importing this package registers the six extensions with wire, so that
// decoding into any gives Link, Form, Input, Resource, Error and
// Collection values.
func init() {
	register("link", linkFromExt)
	register("form", formFromExt)
	register("input", inputFromExt)
	register("resource", resourceFromExt)
	register("error", errorFromExt)
	register("collection", collectionFromExt)
}

func register[T any](name string, conv func(wire.Extension) (T, error)) {
	wire.RegisterExtension(name, func(x wire.Extension) (any, error) {
		v, err := conv(x)
		if err != nil {
			return nil, err
		}
		return v, nil
	})
}
