package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Identity is a row of identities: a customer as one channel knows them.
type Identity struct {
	ID               int64
	CustomerID       int64
	Platform         string
	ChannelID        string
	ExternalID       string
	DisplayName      string
	ProfileFetchedAt *time.Time
}

const identityColumns = `id, customer_id, platform, channel_id, external_id, display_name, profile_fetched_at`

func scanIdentity(row interface{ Scan(...any) error }) (Identity, error) {
	var i Identity
	err := row.Scan(&i.ID, &i.CustomerID, &i.Platform, &i.ChannelID, &i.ExternalID, &i.DisplayName, &i.ProfileFetchedAt)
	return i, interpret(err)
}

// EnsureIdentity returns the identity for (platform, channel, external id),
// creating it and a new customer when it is the first contact. created
// says which. Concurrent first messages of one sender create one identity
// and one customer: the identity is inserted first, ON CONFLICT DO NOTHING,
// and the customer only if the identity was.
func EnsureIdentity(ctx context.Context, db DBTX, platform, channelID, externalID string) (ident Identity, created bool, err error) {
	ident, err = scanIdentity(db.QueryRow(ctx, `
		WITH ident AS (
			INSERT INTO identities (customer_id, platform, channel_id, external_id)
			VALUES (nextval('customers_id_seq'), $1, $2, $3)
			ON CONFLICT (platform, channel_id, external_id) DO NOTHING
			RETURNING `+identityColumns+`),
		customer AS (INSERT INTO customers (id) SELECT customer_id FROM ident)
		SELECT `+identityColumns+` FROM ident`, platform, channelID, externalID))
	if err == nil {
		return ident, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Identity{}, false, fmt.Errorf("insert identity: %w", err)
	}
	ident, err = identityByKey(ctx, db, platform, channelID, externalID)
	return ident, false, err
}

func identityByKey(ctx context.Context, db DBTX, platform, channelID, externalID string) (Identity, error) {
	return scanIdentity(db.QueryRow(ctx, `SELECT `+identityColumns+` FROM identities
		WHERE platform = $1 AND channel_id = $2 AND external_id = $3`, platform, channelID, externalID))
}

// IdentityByID returns one identity.
func IdentityByID(ctx context.Context, db DBTX, id int64) (Identity, error) {
	return scanIdentity(db.QueryRow(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = $1`, id))
}

// SetIdentityProfile records a fetched display name (possibly empty when
// the platform would not tell) and gives it to the customer if they have none.
func SetIdentityProfile(ctx context.Context, db DBTX, id int64, name string, now time.Time) error {
	_, err := db.Exec(ctx, `
		WITH ident AS (
			UPDATE identities SET display_name = $2, profile_fetched_at = $3
			WHERE id = $1 RETURNING customer_id)
		UPDATE customers SET display_name = $2
		FROM ident WHERE customers.id = ident.customer_id AND customers.display_name = '' AND $2 <> ''`,
		id, name, now)
	if err != nil {
		return fmt.Errorf("update identity profile: %w", err)
	}
	return nil
}
