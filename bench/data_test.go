package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// Record is the RPC-sized message: ten mixed fields, the same struct (and the
// same key names) for every codec.
type Record struct {
	ID      int64     `json:"id" msgpack:"id" cbor:"id" glyph:"id"`
	Name    string    `json:"name" msgpack:"name" cbor:"name" glyph:"name"`
	Email   string    `json:"email" msgpack:"email" cbor:"email" glyph:"email"`
	Age     int       `json:"age" msgpack:"age" cbor:"age" glyph:"age"`
	Score   float64   `json:"score" msgpack:"score" cbor:"score" glyph:"score"`
	Active  bool      `json:"active" msgpack:"active" cbor:"active" glyph:"active"`
	Tags    []string  `json:"tags" msgpack:"tags" cbor:"tags" glyph:"tags"`
	Created time.Time `json:"created" msgpack:"created" cbor:"created" glyph:"created"`
	Balance int64     `json:"balance" msgpack:"balance" cbor:"balance" glyph:"balance"`
	Note    string    `json:"note" msgpack:"note" cbor:"note" glyph:"note"`
}

// BlobMsg carries a streamed blob (glyph only).
type BlobMsg struct {
	Name string     `glyph:"name"`
	Data *wire.Blob `glyph:"data"`
}

// BytesMsg is the non-streaming equivalent of BlobMsg: the whole content in
// one []byte field.
type BytesMsg struct {
	Name string `json:"name" msgpack:"name" cbor:"name" glyph:"name"`
	Data []byte `json:"data" msgpack:"data" cbor:"data" glyph:"data"`
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Niklaus", "Margaret", "Dennis"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Wirth", "Hamilton", "Ritchie"}
	tagWords   = []string{"admin", "beta", "vip", "eu", "us", "trial", "staff", "new", "legacy", "ops"}
	noteWords  = []string{"please", "call", "back", "before", "friday", "about", "the", "invoice", "renewal", "order", "shipped", "late", "refund", "pending", "review"}
)

// makeRecord returns a deterministic, realistic record. Times are UTC with
// microsecond precision, the precision hyperglyph carries.
func makeRecord(rng *rand.Rand, i int) Record {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	var note strings.Builder
	for note.Len() < 40 {
		if note.Len() > 0 {
			note.WriteByte(' ')
		}
		note.WriteString(noteWords[rng.IntN(len(noteWords))])
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	return Record{
		ID:      1_000_000 + int64(i)*7919,
		Name:    first + " " + last,
		Email:   fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), i),
		Age:     18 + rng.IntN(70),
		Score:   math.Round(rng.Float64()*10000) / 100,
		Active:  rng.IntN(3) != 0,
		Tags:    []string{tagWords[rng.IntN(len(tagWords))], tagWords[rng.IntN(len(tagWords))], tagWords[rng.IntN(len(tagWords))]},
		Created: base.Add(time.Duration(rng.Int64N(5*365*24*3600*1e6)) * time.Microsecond),
		Balance: rng.Int64N(100_000_000) - 10_000_000,
		Note:    note.String()[:40],
	}
}

func smallRecord() Record {
	return makeRecord(rand.New(rand.NewPCG(1, 2)), 42)
}

// listTarget is the size of the glyph encoding the list benchmark aims at.
const listTarget = 1 << 20

// makeList returns records until their glyph encoding reaches about 1 MiB.
func makeList() []Record {
	rng := rand.New(rand.NewPCG(3, 4))
	size := 2 // "L" ... ";"
	var list []Record
	var buf []byte
	for i := 0; size < listTarget; i++ {
		r := makeRecord(rng, i)
		var err error
		buf, err = wire.AppendMarshal(buf[:0], &r)
		if err != nil {
			panic(err)
		}
		size += len(buf)
		list = append(list, r)
	}
	return list
}

// codec is one library under test, used the fastest ordinary way it offers.
type codec struct {
	name string
	// newMarshal returns a marshal function that reuses one output buffer;
	// the result is valid until the next call.
	newMarshal func() func(v any) ([]byte, error)
	// unmarshal decodes a complete message.
	unmarshal func(data []byte, v any) error
	// encodeTo / decodeFrom are the streaming APIs, used for the blob case.
	encodeTo   func(w io.Writer, v any) error
	decodeFrom func(r io.Reader, v any) error
}

// Times as RFC 3339 text (like glyph and JSON) with full precision; the
// default (TimeUnix) would drop the fraction.
var (
	cborEnc = must(cbor.EncOptions{Time: cbor.TimeRFC3339Nano}.UserBufferEncMode())
	cborDec = must(cbor.DecOptions{}.DecMode())
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var codecs = []codec{
	{
		name: "glyph",
		// wire.AppendMarshal into a reused slice.
		newMarshal: func() func(any) ([]byte, error) {
			var buf []byte
			return func(v any) ([]byte, error) {
				var err error
				buf, err = wire.AppendMarshal(buf[:0], v)
				return buf, err
			}
		},
		unmarshal:  wire.Unmarshal,
		encodeTo:   func(w io.Writer, v any) error { return wire.NewEncoder(w).Encode(v) },
		decodeFrom: func(r io.Reader, v any) error { return wire.NewDecoder(r).Decode(v) },
	},
	{
		name: "json",
		// json.Encoder into a reused bytes.Buffer (json.Marshal copies its
		// result into a fresh slice).
		newMarshal: func() func(any) ([]byte, error) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			return func(v any) ([]byte, error) {
				buf.Reset()
				err := enc.Encode(v)
				return buf.Bytes(), err
			}
		},
		unmarshal:  json.Unmarshal,
		encodeTo:   func(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) },
		decodeFrom: func(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) },
	},
	{
		name: "msgpack",
		// msgpack.Encoder into a reused bytes.Buffer (msgpack.Marshal
		// allocates a new buffer per call).
		newMarshal: func() func(any) ([]byte, error) {
			var buf bytes.Buffer
			enc := msgpack.NewEncoder(&buf)
			return func(v any) ([]byte, error) {
				buf.Reset()
				err := enc.Encode(v)
				return buf.Bytes(), err
			}
		},
		unmarshal:  msgpack.Unmarshal,
		encodeTo:   func(w io.Writer, v any) error { return msgpack.NewEncoder(w).Encode(v) },
		decodeFrom: func(r io.Reader, v any) error { return msgpack.NewDecoder(r).Decode(v) },
	},
	{
		name: "cbor",
		// EncMode.MarshalToBuffer into a reused bytes.Buffer.
		newMarshal: func() func(any) ([]byte, error) {
			var buf bytes.Buffer
			return func(v any) ([]byte, error) {
				buf.Reset()
				err := cborEnc.MarshalToBuffer(v, &buf)
				return buf.Bytes(), err
			}
		},
		unmarshal:  cborDec.Unmarshal,
		encodeTo:   func(w io.Writer, v any) error { return cborEnc.NewEncoder(w).Encode(v) },
		decodeFrom: func(r io.Reader, v any) error { return cborDec.NewDecoder(r).Decode(v) },
	},
}

// genReader produces n deterministic pseudo-random bytes (splitmix64)
// without holding them in memory. Its output depends only on the seed and
// the position, not on how it is read.
type genReader struct {
	state uint64
	left  int64   // bytes still to produce
	word  [8]byte // current word
	used  int     // bytes of word already returned (8 = none buffered)
}

func newGenReader(seed uint64, n int64) *genReader {
	return &genReader{state: seed, left: n, used: 8}
}

func (g *genReader) next() uint64 {
	g.state += 0x9e3779b97f4a7c15
	z := g.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n := 0
	for n < len(p) && g.used < 8 { // leftover of the current word
		p[n] = g.word[g.used]
		n++
		g.used++
	}
	for ; len(p)-n >= 8; n += 8 {
		binary.LittleEndian.PutUint64(p[n:], g.next())
	}
	if n < len(p) {
		binary.LittleEndian.PutUint64(g.word[:], g.next())
		g.used = copy(p[n:], g.word[:])
		n += g.used
	}
	g.left -= int64(n)
	return n, nil
}
