package hub

// CheapArgon makes login identities cheap to derive, for tests that make
// many accounts; the parameters are still Argon2id's.
func CheapArgon() {
	argonParams.Time, argonParams.Memory, argonParams.Threads = 1, 1<<10, 1
}

// DecodeAccountState decodes an account object's content, for fuzzing.
func DecodeAccountState(data []byte) error {
	_, err := decodeAccountState(data)
	return err
}

// WithRFCArgon runs f with the parameters of spec.md, not the tests'.
func WithRFCArgon(f func()) {
	saved := argonParams
	argonParams.Time, argonParams.Memory, argonParams.Threads = 3, 64<<10, 4
	defer func() { argonParams = saved }()
	f()
}
