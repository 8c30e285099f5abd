// Package walkthrough is the service of the glyph walkthrough, in two versions.
//
// The walkthrough is the story hyperglyph was made to tell: a server
// exposes a few functions and a class, a client finds them by following
// the links and forms it is given, and when the server evolves (a
// parameter gains a default, an object gains state, a call answers with
// a redirect instead of the object itself) the same client keeps working,
// because it never built a URL or counted on a shape it was not handed.
//
// V1 is the first version and V2 the evolved one. Both offer:
//
//	hello(...)          a greeting: V1 takes no argument, V2 name="World"
//	goodbye(name)       "Goodbye " + name
//	woo()               [1, true, nil, false, "a", "b"]
//	types()             one value of every glyph type, in an ordered dict
//	greeting(lang="en") the function hello, or salut for "fr": its form
//	salut(...)          hello in French
//	find_user(name)     a User resource with message(subject, body) and bio()
//
// V1's User carries its id in its URL and find_user answers with the
// resource itself; V2's User carries an id and a shard, and find_user
// answers 303 See Other to the User's URL.
package walkthrough

import (
	"fmt"
	"math/big"
	"time"

	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// Service returns the walkthrough service of the given version, 1 or 2.
func Service(version int) (*service.Service, error) {
	switch version {
	case 1:
		return V1(), nil
	case 2:
		return V2(), nil
	}
	return nil, fmt.Errorf("walkthrough: no version %d (there are 1 and 2)", version)
}

// V1 returns the first version of the walkthrough service.
func V1() *service.Service {
	s := service.New(service.WithName("walkthrough"))
	s.MustFunc("hello", helloV1)
	s.MustFunc("goodbye", goodbye, service.Args("name"))
	s.MustFunc("woo", woo)
	s.MustFunc("types", types)
	s.MustFunc("greeting", greetingV1, service.Args("lang"), service.Default("lang", "en"))
	s.MustFunc("salut", salutV1)
	s.MustFunc("find_user", findUserV1, service.Args("name"))
	s.MustClass("User", UserV1{},
		service.Method("message", service.Args("subject", "body")),
		service.Method("bio", service.Safe()))
	return s
}

// V2 returns the evolved walkthrough service.
func V2() *service.Service {
	s := service.New(service.WithName("walkthrough"))
	s.MustFunc("hello", hello, service.Args("name"), service.Default("name", "World"))
	s.MustFunc("goodbye", goodbye, service.Args("name"))
	s.MustFunc("woo", woo)
	s.MustFunc("types", types)
	s.MustFunc("greeting", greeting, service.Args("lang"), service.Default("lang", "en"))
	s.MustFunc("salut", salut, service.Args("name"), service.Default("name", "World"))
	s.MustFunc("find_user", findUser, service.Args("name"), service.Redirect())
	s.MustClass("User", User{},
		service.Method("message", service.Args("subject", "body")),
		service.Method("bio", service.Safe()))
	return s
}

func helloV1() string            { return "Hello World" }
func hello(name string) string   { return "Hello " + name }
func salutV1() string            { return "Salut World" }
func salut(name string) string   { return "Salut " + name }
func goodbye(name string) string { return "Goodbye " + name }

// woo returns a list of mixed values, the walkthrough's first taste of
// duck typing: the client gets what the server chose to send.
func woo() []any { return []any{1, true, nil, false, "a", "b"} }

// greetingV1 and greeting return a function: the client receives its form
// and can call it like any other.
func greetingV1(lang string) any {
	if lang == "fr" {
		return salutV1
	}
	return helloV1
}

func greeting(lang string) any {
	if lang == "fr" {
		return salut
	}
	return hello
}

// types returns one value of every glyph type, each under its type's name.
func types() *wire.OrderedDict {
	return wire.NewOrderedDict(
		"nil", nil,
		"true", true,
		"false", false,
		"integer", 123,
		"big integer", new(big.Int).Lsh(big.NewInt(1), 64),
		"unicode", "héllo wörld",
		"bytearray", []byte{0x00, 0xff, 'g'},
		"float", 1.5,
		"datetime", time.Date(2012, 8, 12, 13, 14, 15, 123456000, time.UTC),
		"timedelta", 3*24*time.Hour+2*time.Hour,
		"list", []any{1, "two", 3.0},
		"set", wire.NewSet(1, 2, 3),
		"dict", map[string]any{"a": 1, "b": []any{2}},
		"ordered dict", wire.NewOrderedDict("z", 1, "a", 2),
		"extension", wire.Extension{Name: "note", Attrs: wire.NewOrderedDict("lang", "en"), Content: "unknown extensions pass through"},
		"blob", wire.BytesBlob("text/plain", []byte("hello, blob")),
	)
}

// users is the walkthrough's directory: name → id.
var users = map[string]int{"alice": 1, "bob": 2, "carol": 3}

var names = map[int]string{1: "alice", 2: "bob", 3: "carol"}

// nameOf names the user with id; a client may make a User with any id
// through the User constructor form.
func nameOf(id int) string {
	if n, ok := names[id]; ok {
		return n
	}
	return fmt.Sprintf("user %d", id)
}

func lookup(name string) (int, error) {
	id, ok := users[name]
	if !ok {
		return 0, service.Errorf(service.KindNotFound, "no user named %q", name)
	}
	return id, nil
}

// UserV1 is a user of the first version: its id is its state, carried in
// its URL.
type UserV1 struct {
	ID int `glyph:"id"`
}

func findUserV1(name string) (UserV1, error) {
	id, err := lookup(name)
	return UserV1{ID: id}, err
}

// Message sends the user a message.
func (u UserV1) Message(subject, body string) string {
	return fmt.Sprintf("message for %s: %s (%s)", nameOf(u.ID), subject, body)
}

// Bio describes the user.
func (u UserV1) Bio() string {
	return fmt.Sprintf("%s is user %d", nameOf(u.ID), u.ID)
}

// User is a user of the evolved version: it also knows the shard that
// holds its data. Both travel in its URL, so any replica can answer.
type User struct {
	ID    int    `glyph:"id"`
	Shard string `glyph:"shard"`
}

func findUser(name string) (User, error) {
	id, err := lookup(name)
	return User{ID: id, Shard: fmt.Sprintf("shard-%d", id%2)}, err
}

// Message sends the user a message.
func (u User) Message(subject, body string) string {
	return fmt.Sprintf("message for %s on %s: %s (%s)", nameOf(u.ID), u.Shard, subject, body)
}

// Bio describes the user.
func (u User) Bio() string {
	return fmt.Sprintf("%s is user %d, kept on %s", nameOf(u.ID), u.ID, u.Shard)
}
