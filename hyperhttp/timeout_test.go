package hyperhttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glyph-ipc/glyph/hyperhttp"
	"github.com/glyph-ipc/glyph/service"
	"github.com/glyph-ipc/glyph/wire"
)

// TestTimeoutHeader: a request's Glyph-Timeout is the deadline of the
// call's context; a malformed one is a 400.
func TestTimeoutHeader(t *testing.T) {
	svc := service.New(service.WithLogger(discardLogger()))
	svc.MustFunc("left", func(ctx context.Context) int64 {
		d, ok := ctx.Deadline()
		if !ok {
			return -1
		}
		return time.Until(d).Milliseconds()
	}, service.Safe())
	srv := httptest.NewServer(hyperhttp.NewHandler(svc, hyperhttp.WithLogger(discardLogger())))
	defer srv.Close()
	tests := []struct {
		header string
		status int
		min    int64
		max    int64
	}{
		{"", 200, -1, -1},
		{"1500", 200, 1, 1500},
		{"0", 200, -1000, 0},
		{"99999999999999", 200, -1, -1}, // beyond the bound: no deadline
		{"soon", 400, 0, 0},
		{"-5", 400, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/left", nil)
			req.Header.Set("Accept", hyperhttp.MediaType)
			if tt.header != "" {
				req.Header.Set(hyperhttp.TimeoutHeader, tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				if !strings.Contains(string(body), hyperhttp.TimeoutHeader) {
					t.Fatalf("the error does not name the header: %s", body)
				}
				return
			}
			var left int64
			if err := wire.Unmarshal(body, &left); err != nil {
				t.Fatal(err)
			}
			if left < tt.min || left > tt.max {
				t.Fatalf("the call had %s ms left, want within [%d, %d]", strconv.FormatInt(left, 10), tt.min, tt.max)
			}
		})
	}
}
