package gateway

import "github.com/frontdesk/frontdesk/sandbox"

// registerSandbox serves the demo's shopper sandbox: a chat page whose
// messages go through the real webhook path and whose replies are read
// from the built-in Graph API stand-in.
func (g *Gateway) registerSandbox() {
	chans := make([]sandbox.Channel, 0, len(g.cfg.Meta.Channels))
	for _, ch := range g.cfg.Meta.Channels {
		chans = append(chans, sandbox.Channel{Platform: ch.Platform, ID: ch.ID, Name: ch.Name})
	}
	sandbox.Register(g.app, sandbox.Config{
		AppSecret:  g.cfg.Meta.AppSecret,
		WebhookURL: g.cfg.PublicURL + "/webhooks/meta",
		Channels:   chans,
		Stub:       g.stub,
	})
}
