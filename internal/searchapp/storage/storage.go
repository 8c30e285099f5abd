// Package storage is the Storage component of the search example: it
// holds the records (ThingyData) and finds them by word. Nothing in it
// knows where it runs or what reaches it.
package storage

//go:generate go run github.com/glyph-ipc/glyph/cmd/glyph gen Storage

import (
	"context"
	"slices"
	"strings"

	"github.com/glyph-ipc/glyph/component"
	"github.com/glyph-ipc/glyph/service"
)

// ThingyData is one record: the seed's data record.
type ThingyData struct {
	ID          string `glyph:"id"`
	Type        string `glyph:"type"`
	Name        string `glyph:"name"`
	Description string `glyph:"description"`
}

// Storage holds the records. None of its methods is public: the front
// does not show them.
type Storage interface {
	// Find returns the records whose words (type, name, description)
	// include any of words, in the order of their ids.
	Find(ctx context.Context, words []string) ([]ThingyData, error)
	// Get returns the record id.
	Get(ctx context.Context, id string) (ThingyData, error)
}

// Shelf is a Storage in memory.
type Shelf struct {
	things []ThingyData // sorted by id
}

// NewShelf returns a Shelf holding things.
func NewShelf(things []ThingyData) *Shelf {
	s := &Shelf{things: slices.Clone(things)}
	slices.SortFunc(s.things, func(a, b ThingyData) int { return strings.Compare(a.ID, b.ID) })
	return s
}

// Find implements Storage.
func (s *Shelf) Find(_ context.Context, words []string) ([]ThingyData, error) {
	out := []ThingyData{}
	for _, t := range s.things {
		have := Words(t)
		for _, w := range words {
			if slices.Contains(have, strings.ToLower(w)) {
				out = append(out, t)
				break
			}
		}
	}
	return out, nil
}

// Get implements Storage.
func (s *Shelf) Get(_ context.Context, id string) (ThingyData, error) {
	for _, t := range s.things {
		if t.ID == id {
			return t, nil
		}
	}
	return ThingyData{}, service.Errorf(service.KindNotFound, "no thing %q", id)
}

// Words returns the lower-case words of a record: its type, name and
// description.
func Words(t ThingyData) []string {
	return strings.FieldsFunc(strings.ToLower(t.Type+" "+t.Name+" "+t.Description), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// Register registers impl as the Storage component of svc.
func Register(svc *service.Service, impl Storage) error {
	return component.Register(svc, impl, component.Version("1.0"),
		component.Method("Find", component.Args("words"), component.ReadOnly()),
		component.Method("Get", component.Args("id"), component.ReadOnly()))
}

// Seed is the example's records.
func Seed() []ThingyData {
	return []ThingyData{
		{ID: "t1", Type: "fruit", Name: "apple", Description: "crisp and red or green"},
		{ID: "t2", Type: "fruit", Name: "cherry", Description: "small, red, with a stone"},
		{ID: "t3", Type: "fruit", Name: "banana", Description: "long and yellow"},
		{ID: "t4", Type: "vegetable", Name: "tomato", Description: "red, and botanically a fruit"},
		{ID: "t5", Type: "vegetable", Name: "leek", Description: "long and green"},
		{ID: "t6", Type: "tool", Name: "hammer", Description: "drives nails, red handle"},
		{ID: "t7", Type: "fruit", Name: "strawberry", Description: "red fruit with seeds outside"},
	}
}
