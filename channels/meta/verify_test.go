package meta

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels"
)

// GitHub's published webhook test vector: its X-Hub-Signature-256 is the
// same construction as Meta's.
const (
	vectorSecret    = "It's a Secret to Everybody"
	vectorBody      = "Hello, World!"
	vectorSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestSign(t *testing.T) {
	t.Parallel()

	require.Equal(t, vectorSignature, Sign(vectorSecret, []byte(vectorBody)))
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()

	a := New(Config{AppSecret: vectorSecret})
	body := []byte(vectorBody)

	require.NoError(t, a.Verify(vectorSignature, body))
	upper := signaturePrefix + strings.ToUpper(strings.TrimPrefix(vectorSignature, signaturePrefix))
	require.NoError(t, a.Verify(upper, body), "hex digits in upper case")
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()

	body := []byte(vectorBody)
	digest := strings.TrimPrefix(vectorSignature, signaturePrefix)
	changed := []byte(vectorBody)
	changed[len(changed)-1] = '?'

	tests := []struct {
		name      string
		signature string
		body      []byte
		reason    string
	}{
		{"empty", "", body, "missing"},
		{"sha1 only", "sha1=8e2ab5b7d0a8d6b1ad8c4c3d1c5a4f7d0b0e0f21", body, "sha1 only"},
		{"no prefix", digest, body, "malformed"},
		{"prefix in upper case", "SHA256=" + digest, body, "malformed"},
		{"prefix only", signaturePrefix, body, "malformed"},
		{"one hex digit short", vectorSignature[:len(vectorSignature)-1], body, "malformed"},
		{"one hex digit long", vectorSignature + "0", body, "malformed"},
		{"non-hex", signaturePrefix + strings.Repeat("zz", 32), body, "malformed"},
		{"trailing space", vectorSignature + " ", body, "malformed"},
		{"wrong secret", Sign("not the secret", body), body, "mismatch"},
		{"body changed by one byte", vectorSignature, changed, "mismatch"},
		{"empty body", vectorSignature, nil, "mismatch"},
	}
	a := New(Config{AppSecret: vectorSecret})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := a.Verify(tt.signature, tt.body)
			require.ErrorIs(t, err, channels.ErrSignature)
			require.ErrorContains(t, err, tt.reason)
		})
	}
}

func TestVerifyWithoutAppSecret(t *testing.T) {
	t.Parallel()

	// Anyone can compute an HMAC with an empty key, so an adapter missing
	// its secret must refuse everything rather than accept forgeries.
	body := []byte(vectorBody)
	err := New(Config{}).Verify(Sign("", body), body)
	require.ErrorIs(t, err, channels.ErrSignature)
}

// FuzzVerify checks that Verify never panics, accepts exactly the right
// signature (hex in any case) and rejects everything else with ErrSignature.
func FuzzVerify(f *testing.F) {
	f.Add(vectorSignature, []byte(vectorBody))
	f.Add("", []byte(nil))
	f.Add("sha1=0000", []byte("{}"))
	f.Add(signaturePrefix+strings.Repeat("0", 64), []byte(`{"object":"page"}`))
	f.Add(signaturePrefix+"\xff\xfe", []byte("\x00"))

	a := New(Config{AppSecret: vectorSecret})
	f.Fuzz(func(t *testing.T, signature string, body []byte) {
		if err := a.Verify(signature, body); err != nil {
			require.ErrorIs(t, err, channels.ErrSignature)
		} else {
			require.True(t, strings.EqualFold(signature, Sign(vectorSecret, body)), "accepted %q", signature)
		}
		require.NoError(t, a.Verify(Sign(vectorSecret, body), body))
	})
}
