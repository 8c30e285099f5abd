package record

// ForgedSigner returns a signer that claims owner but signs with k's
// identity key, to test that checks catch it.
func ForgedSigner(owner Address, k *Keys) *Signer { return &Signer{owner: owner, key: k.sign} }

// DecodeGrant decodes a share's decrypted grant, for fuzzing.
var DecodeGrant = decodeGrant
