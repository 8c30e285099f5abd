package hub

import (
	"crypto/ed25519"
	"crypto/sha256"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// AccountAPI is the API id of an account's own object, the one that
// holds its keys and the list of its objects.
const AccountAPI = "glyph.hub.account"

// argonParams are the Argon2id parameters that turn a password into a
// login identity: RFC 9106's second recommended option (t=3, 64 MiB, p=4).
// Tests make them cheaper.
var argonParams = struct {
	Time, Memory uint32
	Threads      uint8
}{Time: 3, Memory: 64 << 10, Threads: 4}

// loginEpoch is the creation time of every login identity, so that a name
// and a password always give the same one.
var loginEpoch = time.Unix(0, 0).UTC()

// loginKeys derives the login identity of an account from its name and
// password: Argon2id over the password, salted with a hash of the name,
// gives the seed of an identity whose KEM key the account's own object is
// shared to. Only someone who knows the password can open that share, so
// a new device finds its account on a remote from the name and password
// alone.
func loginKeys(name, password string) (*record.Keys, error) {
	if name == "" || len(name) > 255 {
		return nil, service.Errorf(service.KindInvalid, "an account name is 1 to 255 bytes")
	}
	if len(password) < 8 {
		return nil, service.Errorf(service.KindInvalid, "a password has at least 8 bytes")
	}
	salt := sha256.Sum256(append([]byte("glyph-hub-login\x00"), name...))
	seed := argon2.IDKey([]byte(password), salt[:], argonParams.Time, argonParams.Memory, argonParams.Threads, record.SeedSize)
	return record.KeysFromSeed(seed, loginEpoch)
}

// LoginIdentity returns the login identity that the account name and
// password derive (spec.md section 2): the identity the account's own
// object is shared to. It costs one Argon2id derivation.
func LoginIdentity(name, password string) (*record.Identity, error) {
	k, err := loginKeys(name, password)
	if err != nil {
		return nil, err
	}
	return k.Identity, nil
}

// accountState is the content of an account's own object: what a new
// device needs to act as the account.
type accountState struct {
	Name    string    `glyph:"name"`
	Seed    []byte    `glyph:"seed"`    // the identity's seed (record.Keys.Seed)
	Created time.Time `glyph:"created"` // the identity's creation time
	Login   []byte    `glyph:"login"`   // the current login identity's fingerprint
	// LoginShares are the shares of the account object to login
	// identities, the current one last.
	LoginShares [][]byte       `glyph:"login_shares"`
	Devices     [][]byte       `glyph:"devices"` // device records, oldest first
	Objects     []*objectEntry `glyph:"objects"`
	Tokens      []tokenEntry   `glyph:"tokens"`
	// Pending are shares that arrived while no application handled their
	// API id, oldest first; they are delivered when one registers.
	Pending []pendingShare `glyph:"pending"`
	// Retired are the record selectors of objects the account owned and
	// discarded, so that their records still in the outbox are drained.
	Retired [][]byte `glyph:"retired"`
}

// pendingShare is a share kept for a handler to come.
type pendingShare struct {
	Object []byte `glyph:"object"`
	API    string `glyph:"api"`
	From   []byte `glyph:"from"`
}

// objectEntry is what the account keeps of one object it owns or reads.
type objectEntry struct {
	ID      []byte        `glyph:"id"` // dynamic id, or a static object's container address
	Dynamic bool          `glyph:"dynamic"`
	API     string        `glyph:"api"`
	Owner   []byte        `glyph:"owner"`
	Keys    []keyEntry    `glyph:"keys"`    // the epochs' keys, oldest first
	Readers []readerEntry `glyph:"readers"` // owner only: who it is shared with
	Binding []byte        `glyph:"binding"` // static: the owner's binding, or this account's hold
	Hold    []byte        `glyph:"hold"`    // this account's hold, when it holds the object
	App     string        `glyph:"app"`     // the token id of the application a private object belongs to
	Share   []byte        `glyph:"share"`   // a reader: the share that gave it the newest key
	Old     [][]byte      `glyph:"old"`     // owner: shares since deleted, kept until drained
	Deleted bool          `glyph:"deleted"`
}

// keyEntry is one epoch key.
type keyEntry struct {
	Epoch uint64 `glyph:"epoch"`
	Key   []byte `glyph:"key"`
}

// readerEntry is a reader of an object: its identity and the share that
// gave it the newest key.
type readerEntry struct {
	Identity []byte `glyph:"identity"`
	Share    []byte `glyph:"share"`
}

// tokenEntry is a registered application.
type tokenEntry struct {
	ID      string `glyph:"id"`      // public id of the token
	Hash    []byte `glyph:"hash"`    // SHA-256 of the token
	Name    string `glyph:"name"`    // the application's name
	Startup []byte `glyph:"startup"` // its startup object, if any
}

// localAccount is what one device keeps of its account on its own disk
// (the store directory's "account" file, mode 0600): the account's
// secret keys, this device's key, and the key of the account's object.
type localAccount struct {
	Name       string     `glyph:"name"`
	Seed       []byte     `glyph:"seed"`
	Created    time.Time  `glyph:"created"`
	DeviceSeed []byte     `glyph:"device_seed"`
	Device     []byte     `glyph:"device"`
	State      []byte     `glyph:"state"` // the account object's id
	StateKeys  []keyEntry `glyph:"state_keys"`
}

// accountDecode bounds what an account file or object may hold.
var accountDecode = wire.DecodeConfig{Limits: wire.Limits{MaxMessageBytes: 64 << 20, MaxItems: 1 << 20, MaxStringBytes: 1 << 20, MaxDepth: 16, MaxBlobs: -1}}

func decodeAccountState(data []byte) (*accountState, error) {
	var s accountState
	if err := wire.UnmarshalConfig(data, &s, accountDecode); err != nil {
		return nil, service.Errorf(service.KindInvalid, "account object: %v", err)
	}
	return &s, nil
}

func (la *localAccount) keys() (*record.Keys, error) { return record.KeysFromSeed(la.Seed, la.Created) }

func (la *localAccount) signer() (*record.Signer, *record.Device, error) {
	dev, err := record.ParseDevice(la.Device)
	if err != nil {
		return nil, nil, err
	}
	s, err := record.DeviceSigner(dev, ed25519.NewKeyFromSeed(la.DeviceSeed))
	return s, dev, err
}

func toKeys(es []keyEntry) []record.EpochKey {
	ks := make([]record.EpochKey, 0, len(es))
	for _, e := range es {
		var k record.EpochKey
		k.Epoch = e.Epoch
		copy(k.Key[:], e.Key)
		ks = append(ks, k)
	}
	return ks
}

func fromKey(k record.EpochKey) keyEntry {
	return keyEntry{Epoch: k.Epoch, Key: append([]byte(nil), k.Key[:]...)}
}
