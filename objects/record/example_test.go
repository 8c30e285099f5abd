package record_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
)

// The main flow: two identities, a static object, a dynamic object updated
// once, and a share that lets the second identity read it.
func Example() {
	now := time.Now()
	alice, _ := record.NewKeys(now)
	bob, _ := record.NewKeys(now)

	// A static object: content sealed with the key of epoch 0.
	key := record.NewEpochKey(0)
	var c0 bytes.Buffer
	addr0, _ := record.Seal(&c0, strings.NewReader("cpu 3%"), key)

	// A dynamic object: frame 0 points to it; an update seals new content
	// and signs frame 1.
	frame0, _ := record.NewDynamic(alice.Signer(), addr0, time.Time{})
	var c1 bytes.Buffer
	addr1, _ := record.Seal(&c1, strings.NewReader("cpu 97%"), key)
	frame1, _ := frame0.Next(alice.Signer(), addr1, now.Add(time.Hour))

	// Anyone holding alice's identity checks the chain.
	fmt.Println("chain:", record.CheckNext(frame0, frame1, alice.Identity, now))

	// Alice shares the object with bob; bob opens the share and the content.
	share, _ := record.NewShare(alice.Signer(), bob.Identity, &record.Grant{
		Target: frame1.ID, API: "telemeter/status", Epoch: key.Epoch, Key: key.Key,
	}, now)
	grant, err := bob.OpenShare(share, alice.Identity, now)
	fmt.Println("share:", grant.API, err)
	var out bytes.Buffer
	_, err = record.Open(&out, &c1, frame1.Target, grant.EpochKey())
	fmt.Println("content:", out.String(), err)
	// Output:
	// chain: <nil>
	// share: telemeter/status <nil>
	// content: cpu 97% <nil>
}

// A persistence server verifies every record it is sent on its own, then
// checks it against the owner's identity, and each frame against the
// latest frame it keeps.
func ExampleParse() {
	now := time.Now()
	alice, _ := record.NewKeys(now)
	frame0, _ := record.NewDynamic(alice.Signer(), record.Sum([]byte("v0")), time.Time{})
	frame1, _ := frame0.Next(alice.Signer(), record.Sum([]byte("v1")), time.Time{})

	info, err := record.Parse(frame1.Bytes())
	fmt.Println(info.Kind, info.Counter, info.Prev == frame0.Hash(), err)
	fmt.Println(info.CheckOwner(alice.Identity, now))
	fmt.Println(record.CheckNext(frame1, frame0, alice.Identity, now))
	// Output:
	// frame 1 true <nil>
	// <nil>
	// record: replayed: frame 0 after frame 1
}

// Seal and Open stream: content of any size goes through in a few
// segments of memory, and Open checks the address the container had.
func ExampleSeal() {
	key := record.NewEpochKey(0)
	var container bytes.Buffer
	addr, _ := record.Seal(&container, strings.NewReader("a static object"), key)

	var out bytes.Buffer
	_, err := record.Open(&out, bytes.NewReader(container.Bytes()), addr, key)
	fmt.Println(out.String(), err)

	container.Bytes()[len(container.Bytes())-10] ^= 1
	_, err = record.Open(io.Discard, bytes.NewReader(container.Bytes()), addr, key)
	fmt.Println(errors.Is(err, record.ErrTampered))
	// Output:
	// a static object <nil>
	// true
}

// A device signs for the identity that authorised it; its frames check
// against that identity until the authorisation expires.
func ExampleKeys_AuthoriseDevice() {
	now := time.Now()
	alice, _ := record.NewKeys(now)
	pub, priv, _ := ed25519.GenerateKey(nil)
	cert, _ := alice.AuthoriseDevice(pub, "laptop", now.Add(30*24*time.Hour))
	laptop, _ := record.DeviceSigner(cert, priv)

	frame0, _ := record.NewDynamic(alice.Signer(), record.Sum([]byte("v0")), time.Time{})
	frame1, _ := frame0.Next(laptop, record.Sum([]byte("v1")), time.Time{})
	fmt.Println(record.CheckNext(frame0, frame1, alice.Identity, now))
	err := record.CheckNext(frame0, frame1, alice.Identity, now.Add(31*24*time.Hour))
	fmt.Println(errors.Is(err, record.ErrExpired))
	// Output:
	// <nil>
	// true
}
