// Package gateway assembles Frontdesk: configuration, the conversation
// service, the outbox workers and the HTTP server. cmd/frontdesk parses
// flags and calls it; tests and the load generator run gateways in-process.
package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/handoff"
)

// BuiltinGraph as meta.graph_url sends every Graph API call to the built-in
// stand-in: the sandbox and the load generator use it.
const BuiltinGraph = "builtin"

// Config is the whole configuration: policies from the YAML file, secrets
// from the environment variables it names.
type Config struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	StoreName string `yaml:"store_name"`
	LogLevel  string `yaml:"log_level"`
	// Demo fills secrets that the environment leaves unset with demo values
	// and turns on the sandbox page. Never for a real store.
	Demo bool `yaml:"demo"`

	Meta   MetaConfig   `yaml:"meta"`
	Outbox OutboxConfig `yaml:"outbox"`
	Bot    BotConfig    `yaml:"bot"`
	Orders OrdersConfig `yaml:"orders"`
	// Console is the agents' side: response targets, canned responses,
	// the satisfaction question, sign-in limits.
	Console handoff.Config `yaml:"console"`
}

// MetaConfig connects a Meta app: Facebook Pages and Instagram accounts.
type MetaConfig struct {
	AppSecretEnv   string          `yaml:"app_secret_env"`
	VerifyTokenEnv string          `yaml:"verify_token_env"`
	GraphURL       string          `yaml:"graph_url"`
	GraphVersion   string          `yaml:"graph_version"`
	Channels       []ChannelConfig `yaml:"channels"`

	// Resolved from the environment by Load.
	AppSecret   string `yaml:"-"`
	VerifyToken string `yaml:"-"`
}

// ChannelConfig is one Page or Instagram account.
type ChannelConfig struct {
	Platform conversation.Platform `yaml:"platform"`
	ID       string                `yaml:"id"`
	Name     string                `yaml:"name"`
	TokenEnv string                `yaml:"token_env"`

	Token string `yaml:"-"`
}

// OutboxConfig tunes delivery.
type OutboxConfig struct {
	// Workers is how many of the bot's replies the dispatcher sends at
	// once in this process, and how many River send jobs run at once.
	Workers int `yaml:"workers"`
	// RetryBase is the first retry delay of a failed send; it doubles.
	RetryBase time.Duration `yaml:"retry_base"`
	// RescueAfter is how long a send may stay claimed by a process that
	// died before another process takes it over.
	RescueAfter time.Duration `yaml:"rescue_after"`
	// JobTimeout bounds one delivery job, and one dispatch of replies
	// (outbox.Dispatcher).
	JobTimeout time.Duration `yaml:"job_timeout"`
	// Disabled runs no workers in this process (another process sends).
	Disabled bool `yaml:"disabled"`
}

// BotConfig is the bot: policies, business hours, phrases and texts. Keys
// the file leaves out keep flows.DefaultConfig's values; StoreName comes
// from store_name.
type BotConfig = flows.Config

// OrdersConfig says where order data comes from.
type OrdersConfig struct {
	// Source is "builtin" (orders imported into Frontdesk's database) or
	// "shopify".
	Source string `yaml:"source"`
	// APITokenEnv names the variable holding the bearer token of
	// POST /api/orders, the upsert endpoint; unset disables the endpoint.
	APITokenEnv string        `yaml:"api_token_env"`
	Shopify     ShopifyConfig `yaml:"shopify"`

	APIToken string `yaml:"-"`
}

// ShopifyConfig connects a Shopify store's Admin API.
type ShopifyConfig struct {
	// ShopURL is https://<shop>.myshopify.com.
	ShopURL        string `yaml:"shop_url"`
	APIVersion     string `yaml:"api_version"`
	AccessTokenEnv string `yaml:"access_token_env"`

	AccessToken string `yaml:"-"`
}

// demoSecret is the demo app's secret and token: public, for the sandbox only.
const demoSecret = "frontdesk-demo-secret"

// Load reads the YAML file at path, resolves secrets from the environment
// and validates the result.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(b, os.Getenv)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML, resolves secrets with getenv, applies defaults and validates.
func Parse(b []byte, getenv func(string) string) (Config, error) {
	cfg := Config{Console: handoff.DefaultConfig()}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	cfg.applyDefaults()
	secret := func(env string) string {
		if v := getenv(env); v != "" {
			return v
		}
		if cfg.Demo {
			return demoSecret
		}
		return ""
	}
	cfg.Meta.AppSecret = secret(cfg.Meta.AppSecretEnv)
	cfg.Meta.VerifyToken = secret(cfg.Meta.VerifyTokenEnv)
	if cfg.Orders.APITokenEnv != "" {
		cfg.Orders.APIToken = secret(cfg.Orders.APITokenEnv)
	}
	if cfg.Orders.Shopify.AccessTokenEnv != "" {
		cfg.Orders.Shopify.AccessToken = getenv(cfg.Orders.Shopify.AccessTokenEnv)
	}
	for i := range cfg.Meta.Channels {
		ch := &cfg.Meta.Channels[i]
		ch.Token = getenv(ch.TokenEnv)
		if ch.Token == "" && cfg.Demo {
			ch.Token = demoSecret + "-" + ch.ID
		}
	}
	return cfg, cfg.Validate()
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.StoreName == "" {
		c.StoreName = "our store"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Meta.AppSecretEnv == "" {
		c.Meta.AppSecretEnv = "META_APP_SECRET"
	}
	if c.Meta.VerifyTokenEnv == "" {
		c.Meta.VerifyTokenEnv = "META_VERIFY_TOKEN"
	}
	if c.Meta.GraphURL == "" {
		c.Meta.GraphURL = "https://graph.facebook.com"
	}
	if c.Meta.GraphVersion == "" {
		c.Meta.GraphVersion = "v23.0"
	}
	if c.Orders.Source == "" {
		c.Orders.Source = "builtin"
	}
	if c.Orders.Shopify.APIVersion == "" {
		c.Orders.Shopify.APIVersion = "2025-07"
	}
	if c.Outbox.Workers == 0 {
		c.Outbox.Workers = 100
	}
	if c.Outbox.RetryBase == 0 {
		c.Outbox.RetryBase = 2 * time.Second
	}
	if c.Outbox.JobTimeout == 0 {
		c.Outbox.JobTimeout = 30 * time.Second
	}
	if c.Outbox.RescueAfter == 0 {
		c.Outbox.RescueAfter = 2 * time.Minute
	}
}

// Validate names what is wrong, environment variables by name.
func (c Config) Validate() error {
	var errs []error
	if c.Meta.AppSecret == "" {
		errs = append(errs, fmt.Errorf("%s is not set (the Meta app secret)", c.Meta.AppSecretEnv))
	}
	if c.Meta.VerifyToken == "" {
		errs = append(errs, fmt.Errorf("%s is not set (the webhook verify token)", c.Meta.VerifyTokenEnv))
	}
	seen := map[string]bool{}
	for i, ch := range c.Meta.Channels {
		switch {
		case ch.Platform != conversation.Messenger && ch.Platform != conversation.Instagram:
			errs = append(errs, fmt.Errorf("meta.channels[%d].platform must be messenger or instagram, not %q", i, ch.Platform))
		case ch.ID == "":
			errs = append(errs, fmt.Errorf("meta.channels[%d].id is empty", i))
		case seen[ch.ID]:
			errs = append(errs, fmt.Errorf("meta.channels[%d].id %s is listed twice", i, ch.ID))
		case ch.TokenEnv == "":
			errs = append(errs, fmt.Errorf("meta.channels[%d].token_env is empty", i))
		case ch.Token == "":
			errs = append(errs, fmt.Errorf("%s is not set (access token of %s channel %s)", ch.TokenEnv, ch.Platform, ch.ID))
		}
		seen[ch.ID] = true
	}
	switch c.Orders.Source {
	case "builtin":
	case "shopify":
		if c.Orders.Shopify.ShopURL == "" {
			errs = append(errs, errors.New("orders.shopify.shop_url is empty"))
		}
		if c.Orders.Shopify.AccessToken == "" {
			errs = append(errs, fmt.Errorf("%s is not set (the Shopify Admin API access token; orders.shopify.access_token_env)",
				cmp.Or(c.Orders.Shopify.AccessTokenEnv, "orders.shopify.access_token_env")))
		}
	default:
		errs = append(errs, fmt.Errorf("orders.source must be builtin or shopify, not %q", c.Orders.Source))
	}
	if c.Outbox.RescueAfter <= c.Outbox.JobTimeout {
		errs = append(errs, fmt.Errorf("outbox.rescue_after (%s) must be longer than outbox.job_timeout (%s)",
			c.Outbox.RescueAfter, c.Outbox.JobTimeout))
	}
	return errors.Join(errs...)
}

// Tokens maps each channel id to its access token.
func (m MetaConfig) Tokens() map[string]string {
	tokens := make(map[string]string, len(m.Channels))
	for _, ch := range m.Channels {
		tokens[ch.ID] = ch.Token
	}
	return tokens
}
