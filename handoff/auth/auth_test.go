package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/handoff/auth"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	hash, err := auth.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), hash)
	require.NoError(t, auth.VerifyPassword(hash, "correct horse battery"))
	require.ErrorIs(t, auth.VerifyPassword(hash, "correct horse batterY"), auth.ErrMismatch)
	require.False(t, auth.NeedsRehash(hash))

	again, err := auth.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, hash, again, "every hash has its own salt")
}

func TestVerifyPasswordRejectsUnreadableHashes(t *testing.T) {
	t.Parallel()
	for _, hash := range []string{
		"",
		"plain",
		"$2a$10$abcdefghijklmnopqrstuv",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=0,t=2,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5",
	} {
		err := auth.VerifyPassword(hash, "whatever password")
		require.Error(t, err, hash)
		require.NotErrorIs(t, err, auth.ErrMismatch, hash)
	}
}

func TestNeedsRehashForWeakerParameters(t *testing.T) {
	t.Parallel()
	require.True(t, auth.NeedsRehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"))
	require.True(t, auth.NeedsRehash("garbage"))
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	for pw, ok := range map[string]bool{
		"short":                        false,
		"            ":                 false,
		"twelve chars":                 true,
		"ünïcödé-pässwörd":             true,
		strings.Repeat("x", 257):       false,
		strings.Repeat("x", 256):       true,
		"correct horse battery staple": true,
	} {
		if ok {
			require.NoError(t, auth.ValidatePassword(pw), pw)
		} else {
			require.Error(t, auth.ValidatePassword(pw), pw)
		}
	}
}

func TestTokensAreRandomAndStoredAsDigests(t *testing.T) {
	t.Parallel()
	a, da, err := auth.NewToken(auth.SessionPrefix)
	require.NoError(t, err)
	b, db, err := auth.NewToken(auth.SessionPrefix)
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.True(t, strings.HasPrefix(a, "fds_"))
	require.Len(t, a, len("fds_")+43) // 32 bytes, unpadded base64
	require.Equal(t, da, auth.Digest(a))
	require.Equal(t, db, auth.Digest(b))
	require.Len(t, da, 32)
}

func TestEmails(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ana@example.com", auth.NormalizeEmail("  Ana@Example.COM "))
	require.Equal(t, auth.EmailKey("ana@example.com"), auth.EmailKey(" ANA@example.com"))
	require.NoError(t, auth.ValidateEmail("ana@example.com"))
	for _, bad := range []string{"", "ana", "@example.com", "ana@", "a na@example.com", "<a>@b"} {
		require.Error(t, auth.ValidateEmail(bad), bad)
	}
}
