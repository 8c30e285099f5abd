package wire

import "bytes"

// DupWork decodes the message in data into v with a Decoder, as Decode
// does, and returns the work its duplicate checks did (digester.work):
// tests hold it to the bound doc.go states.
func DupWork(data []byte, v any, cfg DecodeConfig) (work int64, err error) {
	dec := NewDecoderConfig(bytes.NewReader(data), cfg)
	err = dec.Decode(v)
	return dec.d.dig.work, err
}
