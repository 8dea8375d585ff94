package meta

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels"
)

// Shared by the classification tests of package meta and the send tests of
// package meta_test.

// ErrClass is what a classified send error asks of the outbox.
type ErrClass int

const (
	Transient ErrClass = iota
	RetryAfter
	Permanent
	Reauthorize
)

// RequireClass checks that err is classified as want, with the Permanent
// reason containing reason and a rate limit asking to wait after.
func RequireClass(t *testing.T, err error, want ErrClass, reason string, after time.Duration) {
	t.Helper()
	var perm *channels.PermanentError
	var retry *channels.RetryAfterError
	switch want {
	case Transient:
		require.NotErrorIs(t, err, channels.ErrPermanent)
		require.False(t, errors.As(err, &retry), "got RetryAfterError %v", err)
	case RetryAfter:
		require.ErrorAs(t, err, &retry)
		require.Equal(t, after, retry.After)
		require.NotErrorIs(t, err, channels.ErrPermanent)
	case Permanent:
		require.ErrorAs(t, err, &perm)
		require.ErrorIs(t, err, channels.ErrPermanent)
		require.NotErrorIs(t, err, channels.ErrReauthorize)
		require.Contains(t, perm.Reason, reason)
	case Reauthorize:
		require.ErrorAs(t, err, &perm)
		require.ErrorIs(t, err, channels.ErrReauthorize)
		require.ErrorIs(t, err, channels.ErrPermanent)
		require.Contains(t, perm.Reason, reason)
	}
}
