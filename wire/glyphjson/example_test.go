package glyphjson_test

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/glyph-ipc/glyph/hyper"
	"github.com/glyph-ipc/glyph/wire"
	"github.com/glyph-ipc/glyph/wire/glyphjson"
)

func ExampleMarshal() {
	v := map[string]any{
		"name":  "Ada",
		"n":     3,
		"ratio": 1.0,
		"big":   uint64(math.MaxUint64),
		"tags":  wire.NewSet("x"),
		"when":  time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC),
		"$id":   "escaped key",
		"next":  hyper.Link{URL: "/users/2"},
	}
	b, err := glyphjson.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"$$id":"escaped key","big":{"$integer":"18446744073709551615"},"n":3,"name":"Ada","next":{"$link":{"method":"GET","url":"/users/2"}},"ratio":1.0,"tags":{"$set":["x"]},"when":{"$datetime":"2026-12-07T15:00:00.000000Z"}}
}

func ExampleUnmarshal() {
	var v any
	if err := glyphjson.Unmarshal([]byte(`{"name":"Ada","n":3,"x":1.0,"b":{"$bytearray":"AP8="}}`), &v); err != nil {
		panic(err)
	}
	m := v.(map[string]any)
	fmt.Printf("%T %T %T %T\n", m["name"], m["n"], m["x"], m["b"])
	// Output: string int64 float64 []uint8
}

func ExampleDecoder() {
	d := glyphjson.NewDecoder(strings.NewReader("{\"$set\":[2,1]}\n[1.5]\n"))
	for {
		var v any
		if err := d.Decode(&v); err != nil {
			break
		}
		g, _ := wire.Marshal(v)
		fmt.Printf("%s\n", g)
	}
	// Output:
	// Si1;i2;;
	// Lf0x1.8p+00;;
}
