package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/store"
)

// ProfileWorker fetches a new identity's display name once and caches it on
// the identity; messages never wait for it.
type ProfileWorker struct {
	river.WorkerDefaults[store.FetchProfileArgs]

	Pool     *pgxpool.Pool
	Fetchers map[conversation.Platform]channels.ProfileFetcher
}

// Work fetches and stores the profile. A permanent refusal (the shopper's
// privacy settings, a removed account) stores an empty name so it is not
// asked again.
func (w *ProfileWorker) Work(ctx context.Context, job *river.Job[store.FetchProfileArgs]) error {
	ident, err := store.IdentityByID(ctx, w.Pool, job.Args.IdentityID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ident.ProfileFetchedAt != nil) {
		return nil
	}
	if err != nil {
		return err
	}
	fetcher, ok := w.Fetchers[conversation.Platform(ident.Platform)]
	if !ok {
		return nil
	}
	profile, err := fetcher.FetchProfile(ctx, conversation.Platform(ident.Platform), ident.ChannelID, ident.ExternalID)
	if errors.Is(err, channels.ErrPermanent) {
		zerolog.Ctx(ctx).Debug().Err(err).Stringer("identity_id", conversation.IdentityID(ident.ID)).
			Msg("Profile not available")
		err, profile = nil, channels.Profile{}
	}
	if err != nil {
		return err
	}
	return store.SetIdentityProfile(ctx, w.Pool, ident.ID, profile.Name, time.Now())
}
