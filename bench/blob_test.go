package bench

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/glyph-ipc/glyph/wire"
)

const (
	blobSize = 64 << 20
	blobSeed = 0x5eed
)

// glyphBlobRoundTrip encodes a message holding a blob of size generated
// bytes into one end of a pipe, decodes it from the other end and copies the
// blob's content to sink. The content is never held in memory as a whole.
func glyphBlobRoundTrip(size int64, sink io.Writer) (int64, error) {
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		msg := BlobMsg{Name: "payload.bin", Data: wire.NewBlob("application/octet-stream", newGenReader(blobSeed, size))}
		err := wire.NewEncoder(pw).Encode(&msg)
		pw.CloseWithError(err)
		errc <- err
	}()
	n, err := func() (int64, error) {
		dec := wire.NewDecoder(pr)
		defer dec.Close()
		var msg BlobMsg
		if err := dec.Decode(&msg); err != nil {
			return 0, fmt.Errorf("decode: %w", err)
		}
		if msg.Data == nil {
			return 0, fmt.Errorf("decode: no blob")
		}
		n, err := io.Copy(sink, msg.Data)
		if err != nil {
			return n, fmt.Errorf("read blob: %w", err)
		}
		if err := dec.Finish(); err != nil {
			return n, fmt.Errorf("finish: %w", err)
		}
		return n, nil
	}()
	pr.CloseWithError(io.ErrClosedPipe) // unblock the encoder if we failed
	if encErr := <-errc; err == nil && encErr != nil {
		err = fmt.Errorf("encode: %w", encErr)
	}
	return n, err
}

// bytesRoundTrip is the non-streaming equivalent for codecs without a blob
// type: the sender materialises the same generated content in a []byte field
// and encodes the message with the codec's stream encoder into the pipe; the
// receiver decodes it with the codec's stream decoder and writes the field to
// sink.
func bytesRoundTrip(c codec, size int64, sink io.Writer) (int64, error) {
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		data := make([]byte, size)
		_, err := io.ReadFull(newGenReader(blobSeed, size), data)
		if err == nil {
			err = c.encodeTo(pw, &BytesMsg{Name: "payload.bin", Data: data})
		}
		pw.CloseWithError(err)
		errc <- err
	}()
	var msg BytesMsg
	err := c.decodeFrom(pr, &msg)
	pr.CloseWithError(io.ErrClosedPipe)
	var n int
	if err != nil {
		err = fmt.Errorf("decode: %w", err)
	} else {
		n, err = sink.Write(msg.Data)
	}
	if encErr := <-errc; err == nil && encErr != nil {
		err = fmt.Errorf("encode: %w", encErr)
	}
	return int64(n), err
}

// heapSampler records the peak of the heap's object bytes (live objects plus
// dead ones not yet swept) by polling runtime/metrics about every
// millisecond.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			h.peak = max(h.peak, s[0].Value.Uint64())
			select {
			case <-h.stop:
				metrics.Read(s)
				h.peak = max(h.peak, s[0].Value.Uint64())
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// Stop ends sampling and returns the peak.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak
}

// settledHeap collects garbage and returns the remaining heap object bytes.
func settledHeap() uint64 {
	runtime.GC()
	runtime.GC() // finish sweeping, free what finalizers released
	return heapNow()
}
