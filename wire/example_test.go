package wire_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/glyph-ipc/glyph/wire"
)

func ExampleMarshal() {
	b, err := wire.Marshal(map[string]any{"a": []any{1}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", b)

	// Struct fields become dict entries, written in canonical order like
	// the keys of any dict.
	type point struct {
		Y, X int
	}
	b, err = wire.Marshal(point{X: 1, Y: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", b)
	// Output:
	// Du1:a;Li1;;;
	// Du1:X;i1;u1:Y;i2;;
}

func ExampleUnmarshal() {
	type user struct {
		ID    int
		Name  string
		Admin bool `glyph:"admin,omitempty"`
	}
	var u user
	if err := wire.Unmarshal([]byte("Du2:ID;i7;u4:name;u3:Ann;u5:admin;T;;"), &u); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", u)

	// A value that does not fit names the field and the byte.
	err := wire.Unmarshal([]byte("Du2:ID;u1:x;;"), &u)
	fmt.Println(err)
	// Output:
	// {ID:7 Name:Ann Admin:true}
	// glyph: cannot decode unicode into int field user.ID at byte 7
}

func ExampleUnmarshal_any() {
	var v any
	if err := wire.Unmarshal([]byte("Du1:a;Li1;f0x1p-01;u2:hi;N;;;"), &v); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%#v\n", v)
	// Output:
	// map[string]interface {}{"a":[]interface {}{1, 0.5, "hi", interface {}(nil)}}
}

func ExampleEncoder_blob() {
	type upload struct {
		Name string
		File *wire.Blob
	}
	// The blob's content is read from its reader while the encoder writes
	// it, after the root object, in chunks.
	var buf bytes.Buffer
	enc := wire.NewEncoder(&buf)
	msg := upload{Name: "greeting.txt", File: wire.NewBlob("text/plain", strings.NewReader("hello"))}
	if err := enc.Encode(msg); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", buf.Bytes())

	var got upload
	dec := wire.NewDecoder(&buf)
	if err := dec.Decode(&got); err != nil {
		log.Fatal(err)
	}
	content, err := io.ReadAll(got.File)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name, got.File.ContentType, string(content))
	// Output:
	// Du4:File;B0:Du12:content-type;u10:text/plain;;;u4:Name;u12:greeting.txt;;c0:5:hello;c0;
	// greeting.txt text/plain hello
}

func ExampleDecoder() {
	// Two messages pipelined on one stream.
	stream := strings.NewReader("Du2:op;u3:add;u4:args;Li1;i2;;;\nDu2:op;u4:quit;;")
	dec := wire.NewDecoder(stream)
	for {
		var req struct {
			Op   string
			Args []int
		}
		err := dec.Decode(&req)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%+v\n", req)
	}
	// Output:
	// {Op:add Args:[1 2]}
	// {Op:quit Args:[]}
}

func ExampleOrderedDict() {
	// An ordered dict keeps insertion order on the wire; a map is sorted.
	o := wire.NewOrderedDict("b", 1, "a", 2)
	b, err := wire.Marshal(o)
	if err != nil {
		log.Fatal(err)
	}
	m, err := wire.Marshal(map[string]int{"b": 1, "a": 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n%s\n", b, m)

	var v any
	if err := wire.Unmarshal(b, &v); err != nil {
		log.Fatal(err)
	}
	back := v.(*wire.OrderedDict)
	for _, e := range back.Entries() {
		fmt.Println(e.Key, e.Value)
	}
	// Output:
	// Ou1:b;i1;u1:a;i2;;
	// Du1:a;i2;u1:b;i1;;
	// b 1
	// a 2
}
