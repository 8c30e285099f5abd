package record

import "fmt"

// Values that hold secrets print without them, so that a secret never
// reaches a log through fmt.

// String names the keys by their identity's fingerprint.
func (k *Keys) String() string { return fmt.Sprintf("record.Keys{%s}", k.Identity.fp) }

// GoString is String: the secret keys are never printed.
func (k *Keys) GoString() string { return k.String() }

// String names the key by its epoch.
func (k EpochKey) String() string { return fmt.Sprintf("record.EpochKey{Epoch: %d}", k.Epoch) }

// GoString is String: the key is never printed.
func (k EpochKey) GoString() string { return k.String() }

// String shows the grant without its key.
func (g *Grant) String() string {
	return fmt.Sprintf("record.Grant{Target: %s, API: %q, Epoch: %d}", g.Target, g.API, g.Epoch)
}

// GoString is String: the key is never printed.
func (g *Grant) GoString() string { return g.String() }
