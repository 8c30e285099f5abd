package peer_test

import (
	"context"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/peer"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// roundTrip encodes a req carrying payload with the codec and decodes it.
func roundTrip(t *testing.T, name string, payload any) (any, error) {
	t.Helper()
	c := codec(t, name)
	b, err := c.Marshal(&peer.Envelope{Type: peer.TypeReq, Method: "m", ID: 1, Payload: payload})
	if err != nil {
		return nil, err
	}
	var env peer.Envelope
	if err := c.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: our own encoding %q does not decode: %v", name, b, err)
	}
	return env.Payload, nil
}

func TestCodecValues(t *testing.T) {
	big2to70 := new(big.Int).Lsh(big.NewInt(1), 70)
	when := time.Date(2024, 2, 29, 12, 30, 0, 123456000, time.UTC)
	tests := []struct {
		codec string
		in    any
		want  any // nil: the same as in
	}{
		{"glyph", wire.NewSet[any]("a", int64(1)), nil},
		{"glyph", when, nil},
		{"glyph", []byte{0, 1, 0xff}, nil},
		{"glyph", big2to70, nil},
		{"glyph", 90 * time.Minute, nil},
		{"glyph", map[string]any{"list": []any{nil, true, 1.5, "é"}}, nil},
		{"glyph", []int{1, 2}, []any{int64(1), int64(2)}},
		{"msgpack", []byte{0, 1, 0xff}, nil},
		{"msgpack", when, nil},
		{"msgpack", uint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64)},
		{"msgpack", float32(1.5), 1.5},
		{"msgpack", int8(-5), int64(-5)},
		{"msgpack", map[string]any{"n": []any{int64(-70000), nil}}, nil},
		{"msgpack", []string{"a", "b"}, []any{"a", "b"}},
		{"msgpack", big.NewInt(-3), int64(-3)},
		{"json", big2to70, nil},
		{"json", []byte("hi"), "aGk="}, // base64, as encoding/json writes bytes
		{"json", map[string]any{"f": 2.5, "i": int64(-7)}, nil},
		{"json", struct {
			A int `json:"a"`
		}{3}, map[string]any{"a": int64(3)}},
	}
	for _, tt := range tests {
		got, err := roundTrip(t, tt.codec, tt.in)
		if err != nil {
			t.Errorf("%s %#v: %v", tt.codec, tt.in, err)
			continue
		}
		want := tt.want
		if want == nil {
			want = tt.in
		}
		if !sameValue(got, want) {
			t.Errorf("%s: %#v came back as %#v, want %#v", tt.codec, tt.in, got, want)
		}
	}
}

func sameValue(a, b any) bool {
	if x, ok := a.(*big.Int); ok {
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	}
	if x, ok := a.(time.Time); ok {
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return reflect.DeepEqual(a, b)
}

func TestCodecUnencodable(t *testing.T) {
	tests := []struct {
		codec string
		v     any
	}{
		{"msgpack", wire.NewSet("a")},
		{"msgpack", wire.NewOrderedDict("a", 1)},
		{"msgpack", new(big.Int).Lsh(big.NewInt(1), 70)},
		{"msgpack", time.Second},
		{"json", math.NaN()},
		{"json", map[any]any{[2]int{1, 2}: 1}},
		{"glyph", make(chan int)},
		{"glyph", "\xff"},
	}
	for _, tt := range tests {
		_, err := roundTrip(t, tt.codec, tt.v)
		var se *service.Error
		if !errors.As(err, &se) || se.Kind != service.KindInvalid {
			t.Errorf("%s %#v: %v, want an Invalid error", tt.codec, tt.v, err)
		}
	}
}

func TestCodecLimits(t *testing.T) {
	deep := func(open, close string, n int) []byte {
		return []byte(strings.Repeat(open, n) + strings.Repeat(close, n))
	}
	l := wire.Limits{MaxDepth: 8, MaxItems: 4, MaxStringBytes: 8}
	tests := []struct {
		codec string
		data  []byte
	}{
		{"json", append(append([]byte(`{"type":"req","method":"m","id":1,"payload":`), deep("[", "]", 20)...), '}')},
		{"json", []byte(`{"type":"req","method":"m","id":1,"payload":[1,2,3,4,5]}`)},
		{"json", []byte(`{"type":"req","method":"m","id":1,"payload":"123456789"}`)},
		{"msgpack", append([]byte("\x83\xa4type\xa3req\xa6method\xa1m\xa7payload"), []byte(strings.Repeat("\x91", 20)+"\xc0")...)},
		{"msgpack", []byte("\x82\xa4type\xa3req\xa7payload\x95\x01\x02\x03\x04\x05")},
		{"msgpack", []byte("\x82\xa4type\xa3req\xa7payload\xa9123456789")},
		{"glyph", []byte("Du4:type;u3:req;u7:payload;" + strings.Repeat("L", 20) + strings.Repeat(";", 20) + ";")},
	}
	for _, tt := range tests {
		c, _ := peer.NewCodec(tt.codec, l)
		var env peer.Envelope
		err := c.Unmarshal(tt.data, &env)
		var se *service.Error
		if !errors.As(err, &se) || se.Kind != service.KindTooLarge {
			t.Errorf("%s %q: %v, want TooLarge", tt.codec, tt.data, err)
		}
	}
	// The JSON decoder's own nesting bound holds without limits too.
	c, _ := peer.NewCodec("json", wire.Limits{MaxDepth: -1})
	var env peer.Envelope
	if err := c.Unmarshal(append(append([]byte(`{"type":"req","method":"m","payload":`), deep("[", "]", 20000)...), '}'), &env); err == nil {
		t.Error("20000 nested lists decoded")
	}
}

func TestUnencodableCallsAndResults(t *testing.T) {
	h := services()
	h["badresult"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return make(chan int), nil
	}
	c, _ := connect(t, transports[3], nil, []peer.Option{peer.WithHandler(h)})
	ctx := ctxTimeout(t, 5*time.Second)
	if _, err := c.Call(ctx, "echo", make(chan int)); kindOf(t, err) != service.KindInvalid {
		t.Errorf("unencodable argument: %v", err)
	}
	_, err := c.Call(ctx, "badresult", nil)
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindInternal || !strings.Contains(se.Message, "cannot encode the result") {
		t.Errorf("unencodable result: %v", err)
	}
	if v, err := c.Call(ctx, "echo", "fine"); err != nil || v != "fine" {
		t.Errorf("after: %v %v", v, err)
	}
	// A stream whose first argument cannot be encoded has not started:
	// the next one starts it.
	st, _ := c.NewStream(ctx, "sum")
	if err := st.Send(make(chan int)); kindOf(t, err) != service.KindInvalid {
		t.Errorf("unencodable first argument: %v", err)
	}
	st.Send(int64(2))
	st.CloseSend()
	if v, err := st.Recv(); err != nil || v != int64(2) {
		t.Errorf("sum after a failed Send: %v %v", v, err)
	}
}

// Errors keep their operation and logref across the wire, and relayed
// remote errors keep their code.
func TestErrorsSurviveTheWire(t *testing.T) {
	h := services()
	h["op"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, &service.Error{Op: "db.Get", Kind: service.KindUnavailable, Message: "retry later", Logref: "abc"}
	}
	h["plain"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, errors.New("plain failure")
	}
	h["deadline"] = func(ctx context.Context, s *peer.ServerStream) (any, error) {
		return nil, context.DeadlineExceeded
	}
	c, _ := connect(t, transports[3], nil, []peer.Option{peer.WithHandler(h)})
	ctx := ctxTimeout(t, 5*time.Second)
	_, err := c.Call(ctx, "op", nil)
	var se *service.Error
	if !errors.As(err, &se) || se.Op != "db.Get" || se.Logref != "abc" || se.Kind != service.KindUnavailable || !peer.Retryable(err) {
		t.Errorf("op: %#v", err)
	}
	_, err = c.Call(ctx, "plain", nil)
	if !errors.As(err, &se) || se.Kind != service.KindInternal || se.Message != "plain failure" {
		t.Errorf("plain: %#v", err)
	}
	_, err = c.Call(ctx, "deadline", nil)
	if kindOf(t, err) != service.KindDeadlineExceeded {
		t.Errorf("deadline: %v", err)
	}
}
