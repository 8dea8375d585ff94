package meta

import (
	"context"
	"fmt"
	"strings"

	"github.com/huandu/facebook/v2"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
)

// FetchProfile asks Graph for a shopper's name with channelID's token:
// GET /{userID}?fields=first_name,last_name on Messenger ("first last"),
// GET /{userID}?fields=name,username on Instagram (the name, or the
// username when the name is empty). Errors are classified as Send's are. A
// profile without a name is not an error: Name is empty.
func (a *Adapter) FetchProfile(ctx context.Context, platform conversation.Platform, channelID, userID string) (channels.Profile, error) {
	var fields string
	switch platform {
	case conversation.Messenger:
		fields = "first_name,last_name"
	case conversation.Instagram:
		fields = "name,username"
	default:
		return channels.Profile{}, &channels.PermanentError{
			Reason: fmt.Sprintf("platform %q has no profiles through the Meta adapter", platform),
			Err:    channels.ErrPermanent,
		}
	}
	if !ValidPathID(userID) {
		return channels.Profile{}, &channels.PermanentError{
			Reason: fmt.Sprintf("invalid Meta user id %q", userID),
			Err:    channels.ErrPermanent,
		}
	}
	res, err := a.graphCall(ctx, channelID, facebook.GET, "/"+userID, facebook.Params{"fields": fields})
	if err != nil {
		return channels.Profile{}, err
	}

	var p struct {
		FirstName string `facebook:"first_name"`
		LastName  string `facebook:"last_name"`
		Name      string `facebook:"name"`
		Username  string `facebook:"username"`
	}
	if err := res.Decode(&p); err != nil {
		return channels.Profile{}, fmt.Errorf("failed to decode Graph profile: %w", err)
	}
	name := strings.TrimSpace(p.FirstName + " " + p.LastName)
	if platform == conversation.Instagram {
		name = strings.TrimSpace(p.Name)
		if name == "" {
			name = p.Username
		}
	}
	return channels.Profile{Name: name}, nil
}
