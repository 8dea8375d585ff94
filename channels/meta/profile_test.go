package meta_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
)

func TestFetchProfile(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		platform  conversation.Platform
		channelID string
		userID    string
		set       []string // first, last for SetProfile
		want      string
		fields    string
		token     string
	}{
		{name: "messenger default", platform: conversation.Messenger, channelID: testPageID, userID: "9000000000004321", want: "Demo Shopper-4321", fields: "first_name,last_name", token: testPageToken},
		{name: "messenger set", platform: conversation.Messenger, channelID: testPageID, userID: testPSID, set: []string{"Ada", "Lovelace"}, want: "Ada Lovelace", fields: "first_name,last_name", token: testPageToken},
		{name: "messenger first name only", platform: conversation.Messenger, channelID: testPageID, userID: testPSID, set: []string{"Ada", ""}, want: "Ada", fields: "first_name,last_name", token: testPageToken},
		{name: "instagram default", platform: conversation.Instagram, channelID: testIGID, userID: "1780000000008765", want: "Demo Shopper-8765", fields: "name,username", token: testIGToken},
		{name: "instagram set", platform: conversation.Instagram, channelID: testIGID, userID: "1780000000008765", set: []string{"Grace", "Hopper"}, want: "Grace Hopper", fields: "name,username", token: testIGToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.set != nil {
				b.stub.SetProfile(tt.userID, tt.set[0], tt.set[1])
			}

			p, err := b.adapter.FetchProfile(t.Context(), tt.platform, tt.channelID, tt.userID)
			require.NoError(t, err)
			require.Equal(t, channels.Profile{Name: tt.want}, p)

			req := b.lastRequest(t)
			require.Equal(t, http.MethodGet, req.Method)
			require.Equal(t, "/"+testVersion+"/"+tt.userID, req.Path)
			require.Equal(t, "Bearer "+tt.token, req.Authorization)
			query, err := url.ParseQuery(req.RawQuery)
			require.NoError(t, err)
			require.Equal(t, tt.fields, query.Get("fields"))
			require.Equal(t, proof(testAppSecret, tt.token), query.Get("appsecret_proof"))
			require.NotContains(t, query, "access_token")
		})
	}
}

func TestFetchProfileErrors(t *testing.T) {
	t.Parallel()

	t.Run("expired token", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.stub.ScriptProfile(testPSID, graphstub.Response{Code: 190, Subcode: 463})
		_, err := b.adapter.FetchProfile(t.Context(), conversation.Messenger, testPageID, testPSID)
		require.ErrorIs(t, err, channels.ErrReauthorize)
	})

	t.Run("service error", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.stub.ScriptProfile(testPSID, graphstub.Response{Status: 500})
		_, err := b.adapter.FetchProfile(t.Context(), conversation.Messenger, testPageID, testPSID)
		require.Error(t, err)
		require.NotErrorIs(t, err, channels.ErrPermanent)
	})

	t.Run("user id unfit for a path", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.adapter.FetchProfile(t.Context(), conversation.Messenger, testPageID, "1/messages")
		require.ErrorIs(t, err, channels.ErrPermanent)
		b.mu.Lock()
		defer b.mu.Unlock()
		require.Empty(t, b.requests)
	})

	t.Run("not a Meta platform", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.adapter.FetchProfile(t.Context(), conversation.WhatsApp, testPageID, testPSID)
		require.ErrorIs(t, err, channels.ErrPermanent)
	})
}
