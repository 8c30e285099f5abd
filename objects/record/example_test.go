package record_test

import (
	"bytes"
	"fmt"
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
