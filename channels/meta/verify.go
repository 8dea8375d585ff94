package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/channels"
)

// signaturePrefix starts Meta's X-Hub-Signature-256 header value. Meta also
// sends X-Hub-Signature with "sha1="; Frontdesk checks only SHA-256.
const signaturePrefix = "sha256="

// Verify checks Meta's X-Hub-Signature-256 header value against the raw
// request body: it must be "sha256=" followed by the 64 hex digits (either
// case) of the HMAC-SHA256 of body keyed with the app secret. The digests
// are compared in constant time. A missing, malformed or wrong signature
// gives an error wrapping channels.ErrSignature with a short reason; so does
// an adapter without an app secret, which could otherwise accept bodies
// signed with an empty key. Verify does no I/O.
func (a *Adapter) Verify(signature string, body []byte) error {
	if a.cfg.AppSecret == "" {
		return signatureError("no app secret configured")
	}
	if signature == "" {
		return signatureError("missing")
	}
	digest, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		if strings.HasPrefix(signature, "sha1=") {
			return signatureError("sha1 only, want sha256")
		}
		return signatureError("malformed")
	}
	if len(digest) != hex.EncodedLen(sha256.Size) {
		return signatureError("malformed")
	}
	got, err := hex.DecodeString(digest)
	if err != nil {
		return signatureError("malformed")
	}
	if !hmac.Equal(got, mac(a.cfg.AppSecret, body)) {
		return signatureError("mismatch")
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value Meta would send for body:
// "sha256=" and the lowercase hex HMAC-SHA256 of body keyed with secret.
// The sandbox and the load generator sign with it.
func Sign(secret string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

func signatureError(reason string) error {
	return fmt.Errorf("%w: %s", channels.ErrSignature, reason)
}
