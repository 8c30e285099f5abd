package bench

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/glyph-ipc/glyph/wire"
)

// BenchmarkDecodeExpansion decodes 1 MiB bodies of the shapes a form
// body may take into `any`, as a server decodes arguments, and reports
// the heap the decoded value keeps per input byte (live-B/in-B): what a
// server's decode budget (hyperhttp.WithDecodeBudget) multiplies by.
// Run with: go test -run '^$' -bench DecodeExpansion -benchtime 5x
func BenchmarkDecodeExpansion(b *testing.B) {
	shapes := []struct {
		name string
		item func(i int) string
	}{
		{"small-ints", func(i int) string { return fmt.Sprintf("i%d;", i%10) }},
		{"short-strings", func(i int) string { return "u1:a;" }},
		{"empty-lists", func(i int) string { return "L;" }},
		{"small-dicts", func(i int) string { return "Du1:a;i1;;" }},
		{"long-strings", func(i int) string { return "u1000:" + strings.Repeat("x", 1000) + ";" }},
	}
	for _, sh := range shapes {
		var sb strings.Builder
		sb.WriteString("Ou4:args;L")
		for i := 0; sb.Len() < 1<<20; i++ {
			sb.WriteString(sh.item(i))
		}
		sb.WriteString(";;")
		in := []byte(sb.String())
		b.Run(sh.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			var live uint64
			for b.Loop() {
				var ms0, ms1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				var v any
				if err := wire.Unmarshal(in, &v); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&ms1)
				live = ms1.HeapAlloc - ms0.HeapAlloc
				runtime.KeepAlive(v)
			}
			b.ReportMetric(float64(live)/float64(len(in)), "live-B/in-B")
		})
	}
}
