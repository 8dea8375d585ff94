// Package handoff is where people take over from the bot: the queue of
// handed-off conversations with its first-response clocks, claiming and
// assignment, the thread with the customer's whole history, replies sent
// through the outbox, internal notes, resolution with a satisfaction
// question, hand-back to the bot, customer linking, and the sign-in,
// roles and API tokens that guard all of it.
//
// Register mounts two faces of the same operations on a Fiber router: the
// agent console, server-rendered HTML under /console, and a JSON API under
// /api/v1 (documented in openapi.yaml). Everything is kept in PostgreSQL,
// so several processes can serve the console at once; live updates reach
// every process through LISTEN/NOTIFY on store.ConsoleChannel.
package handoff

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// Deps is what the console needs from the process that serves it.
type Deps struct {
	// Pool is the database. The console also opens one extra connection
	// of its own, with the pool's settings, to LISTEN for live updates
	// while any agent has the console open.
	Pool *pgxpool.Pool
	// Jobs queues sends (store.SendArgs) inside the console's
	// transactions. The console only inserts jobs; an insert-only client
	// is enough.
	Jobs   *river.Client[pgx.Tx]
	Config Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SecureCookies marks the session cookie Secure (and names it with the
	// __Host- prefix). Set it whenever the console is served over HTTPS.
	SecureCookies bool
}

// Config is the console's policy. Zero fields take the defaults of
// DefaultConfig, except HumanAgentTag: false means that replies more than
// 24 hours after the shopper's last message are refused.
type Config struct {
	// FirstResponseTargets is how soon a person should answer a handed-off
	// conversation, by platform (messenger, instagram, whatsapp, …). A
	// conversation waiting longer shows as breached.
	FirstResponseTargets map[string]time.Duration `yaml:"first_response_targets"`
	// DefaultFirstResponseTarget applies to platforms not listed above:
	// chat-like channels, where shoppers expect an answer within minutes.
	DefaultFirstResponseTarget time.Duration `yaml:"default_first_response_target"`
	// HumanAgentTag says the Meta app may send with the HUMAN_AGENT tag,
	// which lets a person answer up to 7 days after the shopper's last
	// message on Messenger and Instagram (the outbox adds the tag).
	HumanAgentTag bool `yaml:"human_agent_tag"`
	// CannedResponses are offered in the reply box. Their text may use
	// {{name}} (the customer), {{order}} (the hand-off's order number) and
	// {{agent}} (the agent's name).
	CannedResponses []CannedResponse `yaml:"canned_responses"`
	// CSATQuestion is sent when a conversation is resolved, with quick
	// replies "1" to "5" (payloads CSAT_1 to CSAT_5). Empty: the default
	// question; "-": never ask.
	CSATQuestion string `yaml:"csat_question"`
	// SessionMaxAge bounds a sign-in; SessionIdleTimeout ends one that has
	// not been used for that long.
	SessionMaxAge      time.Duration `yaml:"session_max_age"`
	SessionIdleTimeout time.Duration `yaml:"session_idle_timeout"`
	// SignInLimit is how many failed sign-ins are allowed per e-mail
	// address, and SignInLimitPerIP per client address, within
	// SignInWindow; further attempts are refused until the window passes.
	SignInLimit      int           `yaml:"sign_in_limit"`
	SignInLimitPerIP int           `yaml:"sign_in_limit_per_ip"`
	SignInWindow     time.Duration `yaml:"sign_in_window"`
	// TrustedOrigins may make state-changing requests although they are
	// cross-origin (for example "https://admin.example.com"). Usually
	// empty: the console only accepts its own pages' requests.
	TrustedOrigins []string `yaml:"trusted_origins"`
}

// CannedResponse is a prepared reply.
type CannedResponse struct {
	Title string `yaml:"title" json:"title"`
	Text  string `yaml:"text" json:"text"`
}

// DefaultCSATQuestion is asked when Config.CSATQuestion is empty.
const DefaultCSATQuestion = "Thanks for talking to us! How happy are you with the help you got, from 1 (not at all) to 5 (very)?"

// DefaultConfig returns the console's defaults: an answer within an hour
// on Messenger and Instagram, two minutes elsewhere; the HUMAN_AGENT tag
// on; sessions of 7 days that end after 12 idle hours; 5 failed sign-ins
// per address and 20 per client address per 15 minutes.
func DefaultConfig() Config {
	return Config{
		FirstResponseTargets: map[string]time.Duration{
			"messenger": time.Hour,
			"instagram": time.Hour,
		},
		DefaultFirstResponseTarget: 2 * time.Minute,
		HumanAgentTag:              true,
		CannedResponses: []CannedResponse{
			{Title: "Greeting", Text: "Hi {{name}}, this is {{agent}} from the support team. I'm looking into this for you now."},
			{Title: "Order check", Text: "Thanks {{name}}! I'm checking order {{order}} and will get back to you shortly."},
			{Title: "Anything else?", Text: "Is there anything else I can help you with today?"},
		},
		CSATQuestion:       DefaultCSATQuestion,
		SessionMaxAge:      7 * 24 * time.Hour,
		SessionIdleTimeout: 12 * time.Hour,
		SignInLimit:        5,
		SignInLimitPerIP:   20,
		SignInWindow:       15 * time.Minute,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.FirstResponseTargets == nil {
		c.FirstResponseTargets = d.FirstResponseTargets
	}
	if c.DefaultFirstResponseTarget <= 0 {
		c.DefaultFirstResponseTarget = d.DefaultFirstResponseTarget
	}
	if c.CannedResponses == nil {
		c.CannedResponses = d.CannedResponses
	}
	switch c.CSATQuestion {
	case "":
		c.CSATQuestion = d.CSATQuestion
	case "-":
		c.CSATQuestion = ""
	}
	if c.SessionMaxAge <= 0 {
		c.SessionMaxAge = d.SessionMaxAge
	}
	if c.SessionIdleTimeout <= 0 {
		c.SessionIdleTimeout = d.SessionIdleTimeout
	}
	if c.SignInLimit <= 0 {
		c.SignInLimit = d.SignInLimit
	}
	if c.SignInLimitPerIP <= 0 {
		c.SignInLimitPerIP = d.SignInLimitPerIP
	}
	if c.SignInWindow <= 0 {
		c.SignInWindow = d.SignInWindow
	}
	return c
}

// Register mounts the console on app: HTML pages under /console (sign-in
// at /console/login) and the JSON API under /api/v1. app must be the root
// router (the *fiber.App), since pages link to those absolute paths and
// the console's listening connection closes with the app's shutdown. It
// panics if deps lacks a pool or a job client, or if a trusted origin is
// malformed.
func Register(app fiber.Router, deps Deps) {
	if deps.Pool == nil || deps.Jobs == nil {
		panic("handoff.Register: Deps.Pool and Deps.Jobs are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	deps.Config = deps.Config.withDefaults()
	h := newHandler(deps)
	h.routes(app)
	if root, ok := app.(*fiber.App); ok {
		// Live streams end when the server shuts down; so does the
		// listening connection, even if no stream is open.
		root.Hooks().OnShutdown(func() error {
			h.hub.close()
			return nil
		})
	}
}
