package remote

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/objects/record"
	"github.com/glyph-ipc/glyph/objects/store/sqlitestore"
)

// fuzzServer is a server over a store in a temporary directory, with a
// session of a logged-in identity.
func fuzzServer(f *testing.F) (*Server, *record.Keys, string) {
	st, err := sqlitestore.Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	s, err := New(st, "fuzz:1")
	if err != nil {
		f.Fatal(err)
	}
	k, err := record.NewKeys(time.Now())
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.putRecord(context.Background(), identityMeta(k.Identity), bytes.NewReader(k.Identity.Bytes())); err != nil {
		f.Fatal(err)
	}
	return s, k, s.tokens.make(k.Fingerprint(), time.Now().Add(time.Hour))
}

// checkRefusal fails unless err is nil or a refusal with a reason.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if err != nil && ReasonOf(err) == "" {
		t.Fatalf("an error without a reason: %v", err)
	}
}

// Session tokens: whatever the string, check never panics, and accepts
// only the tokens the server made.
func FuzzSessionToken(f *testing.F) {
	tk := tokens{key: bytes.Repeat([]byte{7}, 32)}
	now := time.Unix(1_800_000_000, 0)
	var fp record.Address
	fp[0] = record.TagSHA256
	good := tk.make(fp, now.Add(time.Hour))
	f.Add(good)
	f.Add(good[:len(good)-1] + "A")
	f.Add("s1.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := tk.check(token, now)
		if err != nil {
			if ReasonOf(err) != ReasonUnauthenticated {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		if token != good {
			t.Fatalf("accepted a token the server did not make: %q for %s", token, got)
		}
	})
}

// publish's decoding of records: whatever the bytes, one record or two,
// publish never panics and refuses with a reason.
func FuzzPublish(f *testing.F) {
	s, k, tok := fuzzServer(f)
	var buf bytes.Buffer
	addr, _ := record.Seal(&buf, bytes.NewReader([]byte("hello")), record.NewEpochKey(0), record.WithSegmentSize(record.MinSegmentSize))
	frame, _ := record.NewDynamic(k.Signer(), addr, time.Time{})
	bind, _ := record.NewBinding(k.Signer(), record.KindBinding, addr, time.Now())
	f.Add(buf.Bytes(), frame.Bytes())
	f.Add(buf.Bytes(), bind.Bytes())
	f.Add(k.Identity.Bytes(), []byte(nil))
	f.Add([]byte("Du4:kind;u5:frame;;"), []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		recs := [][]byte{a}
		if len(b) > 0 {
			recs = append(recs, b)
		}
		_, err := s.publish(context.Background(), tok, recs, nil)
		checkRefusal(t, err)
	})
}

// login's decoding of its arguments never panics and refuses with a
// reason.
func FuzzLogin(f *testing.F) {
	s, k, _ := fuzzServer(f)
	ch, _ := s.challenge()
	proof, _ := k.Signer().SignProof(LoginPurpose, LoginMessage(s.name, ch.Nonce, k.Fingerprint()))
	f.Add(k.Identity.Bytes(), []byte(nil), ch.Nonce, proof)
	f.Add([]byte("Du4:kind;u8:identity;;"), []byte("Du4:kind;u6:device;;"), make([]byte, NonceSize), make([]byte, 64))
	f.Fuzz(func(t *testing.T, identity, device, nonce, proof []byte) {
		_, err := s.login(context.Background(), LoginArgs{Identity: identity, Device: device, Nonce: nonce, Proof: proof})
		checkRefusal(t, err)
	})
}

// The address arguments of get, bindings and subscribe never panic and
// are refused with a reason.
func FuzzAddress(f *testing.F) {
	s, k, tok := fuzzServer(f)
	f.Add(k.Fingerprint().Bytes())
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, addr []byte) {
		_, err := s.get(context.Background(), tok, addr)
		checkRefusal(t, err)
		_, err = s.bindings(context.Background(), tok, addr)
		checkRefusal(t, err)
		_, err = s.readChunk(context.Background(), tok, addr, 1, MaxChunk)
		checkRefusal(t, err)
		seq, err := s.subscribe(context.Background(), SubscribeArgs{Session: tok, Objects: [][]byte{addr}, Once: true})
		checkRefusal(t, err)
		if err == nil {
			for _, err := range seq {
				checkRefusal(t, err)
			}
		}
	})
}

// An upload's arguments and bytes, cut into chunks of any size and
// published with any record: whatever they are, the server never panics,
// refuses with a reason, and stores a container only when its bytes are
// the container its address names.
func FuzzUpload(f *testing.F) {
	s, k, tok := fuzzServer(f)
	ctx := context.Background()
	var buf bytes.Buffer
	addr, _ := record.Seal(&buf, bytes.NewReader(bytes.Repeat([]byte("x"), 700)), record.NewEpochKey(0), record.WithSegmentSize(record.MinSegmentSize))
	frame, _ := record.NewDynamic(k.Signer(), addr, time.Time{})
	f.Add(buf.Bytes(), int64(buf.Len()), int64(300), frame.Bytes())
	f.Add(buf.Bytes(), int64(buf.Len()-1), int64(buf.Len()), frame.Bytes())
	f.Add(buf.Bytes()[:100], int64(100), int64(7), []byte("Du4:kind;u7:binding;;"))
	f.Add([]byte{}, int64(-1), int64(0), []byte{})
	f.Fuzz(func(t *testing.T, data []byte, size, cut int64, rec []byte) {
		addr := record.Sum(data)
		up, err := s.beginUpload(ctx, tok, addr.Bytes(), size)
		checkRefusal(t, err)
		if err != nil || up.ID == "" {
			return
		}
		defer func() {
			if u, err := s.lockUpload(k.Fingerprint(), up.ID); err == nil {
				s.dropUpload(u)
				u.mu.Unlock()
			}
		}()
		for off := up.Offset; off < int64(len(data)); {
			// At most 8 chunks or so: each append is synced to disk.
			end := min(int64(len(data)), off+max(1, cut%(2*MaxChunk), int64(len(data))/8))
			if _, err := s.appendUpload(ctx, tok, up.ID, off, data[off:end]); err != nil {
				checkRefusal(t, err)
				break
			}
			off = end
		}
		out, err := s.publish(ctx, tok, [][]byte{rec}, []string{up.ID})
		checkRefusal(t, err)
		if err == nil {
			if _, perr := record.ParseContainer(bytes.NewReader(data)); perr != nil || !bytes.Equal(out[0].Address, addr.Bytes()) {
				t.Fatalf("stored an upload that is not a container: %v", perr)
			}
		}
	})
}
