package hyperhttp

import (
	"net/http"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   representation
	}{
		{"none", nil, representationGlyph},
		{"glyph client", []string{MediaType + ", */*;q=0.1"}, representationGlyph},
		{"curl", []string{"*/*"}, representationGlyph},
		{"json", []string{"application/json"}, representationJSON},
		{"json with charset", []string{"application/json; charset=utf-8"}, representationJSON},
		{"json over glyph by quality", []string{MediaType + ";q=0.5, application/json"}, representationJSON},
		{"glyph over json by quality", []string{"application/json;q=0.9, " + MediaType}, representationGlyph},
		{"tie goes to glyph", []string{"application/json, " + MediaType}, representationGlyph},
		{"browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}, representationHTML},
		{"text wildcard", []string{"text/*"}, representationHTML},
		{"application wildcard", []string{"application/*"}, representationGlyph},
		{"specific zero beats wildcard", []string{MediaType + ";q=0, */*"}, representationJSON},
		{"unknown type", []string{"image/png"}, representationGlyph},
		{"malformed", []string{";;;,"}, representationGlyph},
		{"bad quality ignored", []string{"application/json;q=abc, text/html;q=0.5"}, representationHTML},
		{"two lines", []string{"text/plain", "application/json;q=0.2"}, representationJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{}}
			if tt.accept != nil {
				r.Header["Accept"] = tt.accept
			}
			if got := negotiate(r); got != tt.want {
				t.Errorf("negotiate(Accept %q) = %d, want %d", tt.accept, got, tt.want)
			}
		})
	}
}
