// Package meta is the adapter for Meta's messaging platforms: Messenger and
// Instagram Direct. Both arrive on one webhook (object "page" and object
// "instagram") in the Messenger Platform format and are answered through
// the same Send API, so one package serves both; the conversation model
// tells them apart by conversation.Platform.
package meta

import (
	"github.com/frontdesk/frontdesk/channels"
)

// Config is what the adapter needs to verify webhooks and call the Graph API.
type Config struct {
	// AppSecret signs webhooks (X-Hub-Signature-256) and every Graph call
	// (appsecret_proof).
	AppSecret string
	// GraphURL is the Graph API base URL, "https://graph.facebook.com" in
	// production and a stand-in in tests and the sandbox.
	GraphURL string
	// GraphVersion is the API version, e.g. "v23.0".
	GraphVersion string
	// Tokens maps a channel id (Page id, Instagram account id) to its
	// access token.
	Tokens map[string]string
}

// Adapter verifies and parses Meta webhooks and sends through the Graph API.
type Adapter struct {
	cfg Config
}

// New returns an adapter for cfg.
func New(cfg Config) *Adapter {
	return &Adapter{cfg: cfg}
}

var (
	_ channels.WebhookAdapter = (*Adapter)(nil)
	_ channels.ProfileFetcher = (*Adapter)(nil)
)
