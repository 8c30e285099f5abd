// Package chatroom is the service of the chat example: a chat room whose
// members are called back with every message, built from ordinary
// functions registered with package service.
//
//	join(name, deliver)  calls deliver(message) for every message sent to the
//	                     room from the moment of joining, until the call ends
//	send(name, text)     sends a message; answers its id
//	post(messages)       sends each message of a stream as it arrives (a
//	                     streamed argument); answers how many were sent
//	history()            streams the messages sent so far (a streamed result)
//	who()                the names of the members, sorted
//
// join takes a callback and post a streamed argument, so they need a peer
// connection; send, history and who work over HTTP too, where history's
// stream arrives as one list.
package chatroom

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/glyph-ipc/glyph/service"
)

// Limits of the room.
const (
	MaxHistory = 1000 // messages history() keeps, the latest
	MaxName    = 32   // bytes in a name
	MaxText    = 4096 // bytes in a message's text
	inboxSize  = 256  // messages a member may fall behind before it is dropped
)

// Message is one message of the room.
type Message struct {
	ID   int    `glyph:"id"`   // its number in the room, from 1
	From string `glyph:"from"` // who sent it; "" for the room's notices (joined, left)
	Text string `glyph:"text"`
}

// String formats m as a chat line: "[3] ann: hi", or "[1] * ann joined"
// for a notice.
func (m Message) String() string {
	if m.From == "" {
		return fmt.Sprintf("[%d] * %s", m.ID, m.Text)
	}
	return fmt.Sprintf("[%d] %s: %s", m.ID, m.From, m.Text)
}

// Room is a chat room. It is safe for concurrent use.
type Room struct {
	closed chan struct{} // closed by Close: every Join returns

	mu      sync.Mutex // guards the fields below
	last    int        // the id of the latest message
	history []Message  // the latest MaxHistory messages
	members map[*member]bool
	done    bool // Close was called
}

// member is one Join in progress.
type member struct {
	name    string
	inbox   chan Message  // what is still to be delivered
	dropped chan struct{} // closed when the inbox overflowed
}

// New returns an empty room.
func New() *Room {
	return &Room{closed: make(chan struct{}), members: map[*member]bool{}}
}

// Service returns the room's service: join, send, post, history and who
// (see the package documentation), to serve over HTTP and to peers.
func (r *Room) Service() *service.Service {
	s := service.New(service.WithName("chat"))
	s.MustFunc("join", r.Join, service.Args("name", "deliver"))
	s.MustFunc("send", r.Send, service.Args("name", "text"))
	s.MustFunc("post", r.Post, service.Args("messages"))
	s.MustFunc("history", r.History, service.Safe())
	s.MustFunc("who", r.Who, service.Safe())
	return s
}

// Join makes name a member of the room and calls deliver with every
// message sent from then on, starting with the notice that name joined,
// one at a time and in order. It returns when ctx ends (the caller left:
// over a peer connection, it canceled the call or the connection ended),
// when deliver fails, when the room closes, or with a [service.KindOverloaded] error
// when the member fell more than 256 messages behind. The room then
// notes that name left. deliver is never called after Join returned.
func (r *Room) Join(ctx context.Context, name string, deliver func(context.Context, Message) error) error {
	if err := checkName(name); err != nil {
		return err
	}
	m := &member{name: name, inbox: make(chan Message, inboxSize), dropped: make(chan struct{})}
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return service.Errorf(service.KindUnavailable, "the room is closed")
	}
	r.members[m] = true
	r.addLocked("", name+" joined")
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.members, m)
		if !r.done {
			r.addLocked("", name+" left")
		}
		r.mu.Unlock()
	}()
	for {
		select {
		case msg := <-m.inbox:
			if err := deliver(ctx, msg); err != nil {
				return err
			}
		case <-m.dropped:
			return service.Errorf(service.KindOverloaded, "%s fell %d messages behind and was dropped", name, inboxSize)
		case <-ctx.Done():
			return nil
		case <-r.closed:
			return nil
		}
	}
}

// Send sends text to the room from name and returns the message's id.
func (r *Room) Send(name, text string) (int, error) {
	if err := checkName(name); err != nil {
		return 0, err
	}
	if len(text) > MaxText || !utf8.ValidString(text) {
		return 0, service.Errorf(service.KindInvalid, "a message is at most %d bytes of UTF-8", MaxText)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return 0, service.Errorf(service.KindUnavailable, "the room is closed")
	}
	return r.addLocked(name, text).ID, nil
}

// Post sends each message of messages as it arrives, from the name in its
// From field (its ID is ignored), and returns how many it sent. It stops
// at the first message Send refuses.
func (r *Room) Post(messages iter.Seq[Message]) (int, error) {
	n := 0
	for m := range messages {
		if _, err := r.Send(m.From, m.Text); err != nil {
			e := err.(*service.Error)
			return n, service.Errorf(e.Kind, "message %d: %s", n+1, e.Message)
		}
		n++
	}
	return n, nil
}

// History returns the messages sent so far, the latest MaxHistory of
// them, oldest first.
func (r *Room) History() iter.Seq[Message] {
	r.mu.Lock()
	h := slices.Clone(r.history)
	r.mu.Unlock()
	return slices.Values(h)
}

// Who returns the names of the members, sorted; a name that joined twice
// is there twice.
func (r *Room) Who() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.members))
	for m := range r.members {
		names = append(names, m.name)
	}
	slices.Sort(names)
	return names
}

// Close closes the room: every Join returns, and Join and Send fail with
// [service.KindUnavailable] from then on. History and Who keep answering.
func (r *Room) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done {
		r.done = true
		close(r.closed)
	}
}

// addLocked adds a message and hands it to every member. A member whose
// inbox is full is dropped rather than let one slow reader hold up the
// room.
func (r *Room) addLocked(from, text string) Message {
	r.last++
	msg := Message{ID: r.last, From: from, Text: text}
	if len(r.history) == MaxHistory {
		r.history = slices.Delete(r.history, 0, 1)
	}
	r.history = append(r.history, msg)
	for m := range r.members {
		select {
		case m.inbox <- msg:
		default:
			delete(r.members, m)
			close(m.dropped)
		}
	}
	return msg
}

func checkName(name string) error {
	if name == "" || len(name) > MaxName || !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		return service.Errorf(service.KindInvalid, "a name is 1 to %d bytes of UTF-8 without control characters, got %q", MaxName, name)
	}
	return nil
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }
