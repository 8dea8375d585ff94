package flows_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/flows/flowtest"
	"github.com/frontdesk/frontdesk/flows/understand"
)

// decode reads a bot: section as the gateway does.
func decode(t *testing.T, src string) (flows.Config, error) {
	t.Helper()
	var file struct {
		Bot flows.Config `yaml:"bot"`
	}
	err := yaml.Unmarshal([]byte(src), &file)
	return file.Bot, err
}

func TestDefaultConfigIsValidAndComplete(t *testing.T) {
	t.Parallel()
	cfg := flows.DefaultConfig()
	require.NoError(t, cfg.Validate())
	require.Equal(t, len(cfg.Texts["en"]), len(cfg.Texts["es"]), "every text in both languages")
	for key, en := range cfg.Texts["en"] {
		require.NotEmpty(t, en, key)
		require.NotEmpty(t, cfg.Texts["es"][key], key)
	}
	for _, intent := range understand.AllIntents {
		require.NotEmpty(t, cfg.Intents["en"][intent], intent)
		require.NotEmpty(t, cfg.Intents["es"][intent], intent)
	}
	// DefaultConfig hands out copies.
	cfg.Texts["en"]["greeting"] = "changed"
	require.NotEqual(t, "changed", flows.DefaultConfig().Texts["en"]["greeting"])
}

func TestYAMLKeepsDefaultsForWhatItLeavesOut(t *testing.T) {
	t.Parallel()
	cfg, err := decode(t, `
bot:
  policies:
    return_window_days: 14
    auto_approve_limit: "75.5"
    handoff_after_misunderstood: 0
  business_hours:
    timezone: Europe/Madrid
    days:
      saturday: "10:00-14:00"
  texts:
    en:
      greeting: "Hey! Acme's bot here."
`)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	def := flows.DefaultConfig()
	require.Equal(t, 14, cfg.Policies.ReturnWindowDays)
	require.Equal(t, flows.Amount(7550), cfg.Policies.AutoApproveLimit)
	require.Equal(t, 0, cfg.Policies.HandoffAfterMisunderstood, "an explicit 0 is kept")
	require.Equal(t, def.Policies.HighValueThreshold, cfg.Policies.HighValueThreshold)
	require.Equal(t, def.Policies.FollowUpAfter, cfg.Policies.FollowUpAfter)
	require.Equal(t, def.Policies.Resolutions, cfg.Policies.Resolutions)
	require.Equal(t, map[string]string{"saturday": "10:00-14:00"}, cfg.BusinessHours.Days, "listed days replace the defaults")
	require.Equal(t, def.Intents, cfg.Intents)
	require.Equal(t, def.Texts["es"], cfg.Texts["es"])

	bot, err := flows.NewBot(cfg)
	require.NoError(t, err)
	d := bot.Decide(conversation.FlowState{}, conversation.BotEvent{Text: "hi", Now: flowtest.Now})
	require.Equal(t, "Hey! Acme's bot here.", d.Replies[0].Text)
	d = bot.Decide(d.Next, conversation.BotEvent{Text: "blue", Now: flowtest.Now})
	require.Contains(t, d.Replies[0].Text, "Sorry, I didn't catch that", "a text left out keeps its default")
}

func TestZeroConfigIsTheDefault(t *testing.T) {
	t.Parallel()
	bot, err := flows.NewBot(flows.Config{StoreName: "Acme"})
	require.NoError(t, err)
	d := bot.Decide(conversation.FlowState{}, conversation.BotEvent{Text: "hello", Now: flowtest.Now})
	require.Contains(t, d.Replies[0].Text, "Hi! I'm the automated assistant of Acme.")
	d = bot.Decide(d.Next, conversation.BotEvent{Text: "blue", Now: flowtest.Now})
	d = bot.Decide(d.Next, conversation.BotEvent{Text: "green", Now: flowtest.Now})
	require.NotNil(t, d.Handoff, "the default hands off after two misunderstood messages")
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*flows.Config)
		want string
	}{
		{"window", func(c *flows.Config) { c.Policies.ReturnWindowDays = 0 }, "policies.return_window_days"},
		{"resolution", func(c *flows.Config) { c.Policies.Resolutions = []string{"refund", "cash"} }, `policies.resolutions[1]: "cash"`},
		{"no resolutions", func(c *flows.Config) { c.Policies.Resolutions = []string{} }, "policies.resolutions: empty"},
		{"limit", func(c *flows.Config) { c.Policies.AutoApproveLimit = -1 }, "policies.auto_approve_limit"},
		{"stalled", func(c *flows.Config) { c.Policies.StalledAfterDays = 0 }, "policies.stalled_after_days"},
		{"reminder", func(c *flows.Config) { c.Policies.PhotoReminderAfter = -time.Minute }, "policies.photo_reminder_after"},
		{"misunderstood", func(c *flows.Config) { c.Policies.HandoffAfterMisunderstood = -1 }, "policies.handoff_after_misunderstood"},
		{"timezone", func(c *flows.Config) { c.BusinessHours.Timezone = "Mars/Olympus" }, "business_hours.timezone"},
		{"weekday", func(c *flows.Config) { c.BusinessHours.Days = map[string]string{"funday": "09:00-18:00"} }, "business_hours.days.funday"},
		{"hours", func(c *flows.Config) { c.BusinessHours.Days = map[string]string{"monday": "18:00-09:00"} }, "business_hours.days.monday"},
		{"hours format", func(c *flows.Config) { c.BusinessHours.Days = map[string]string{"monday": "9-5"} }, "business_hours.days.monday"},
		{"intent", func(c *flows.Config) { c.Intents["en"]["trak"] = []string{"track"} }, "intents.en.trak: unknown intent"},
		{"phrase", func(c *flows.Config) { c.Intents["es"]["track"] = []string{"¿?"} }, "intents.es.track[0]"},
		{"text key", func(c *flows.Config) { c.Texts["en"]["greting"] = "Hi" }, "texts.en.greting: unknown text key"},
		{"placeholder", func(c *flows.Config) { c.Texts["es"]["greeting"] = "Hola, soy {{tienda}}" }, "texts.es.greeting: unknown placeholder {{tienda}}"},
		{"locale", func(c *flows.Config) { c.DefaultLocale = "fr" }, `default_locale: "fr" has no texts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := flows.DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			require.ErrorContains(t, err, tt.want)
			_, err = flows.NewBot(cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestYAMLErrors(t *testing.T) {
	t.Parallel()
	_, err := decode(t, "bot:\n  policies:\n    retun_window_days: 14\n")
	require.ErrorContains(t, err, "line 3: unknown key policies.retun_window_days")
	_, err = decode(t, "bot:\n  policies:\n    auto_approve_limit: 100.005\n")
	require.ErrorContains(t, err, `"100.005" is not an amount`)
	_, err = decode(t, "bot:\n  policies:\n    follow_up_after: soon\n")
	require.Error(t, err)
}

func TestAmount(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]flows.Amount{"100": 10000, "100.00": 10000, "100.5": 10050, "0.07": 7, "0": 0} {
		got, err := flows.ParseAmount(s)
		require.NoError(t, err, s)
		require.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "-1", "1.234", "1,00", "€5", "1e3", ".5"} {
		_, err := flows.ParseAmount(s)
		require.Error(t, err, s)
	}
	require.Equal(t, "100.50", flows.Amount(10050).String())
	out, err := yaml.Marshal(struct{ A flows.Amount }{A: 7})
	require.NoError(t, err)
	require.Equal(t, "a: \"0.07\"\n", string(out))
}

// TestShippedConfigs checks the bot: sections of configs/: valid, and
// listing every text and intent in both languages so a store sees every
// word it can change.
func TestShippedConfigs(t *testing.T) {
	t.Parallel()
	def := flows.DefaultConfig()
	for _, name := range []string{"example.yaml", "demo.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("..", "configs", name))
			require.NoError(t, err)
			var raw struct {
				Bot struct {
					Texts   map[string]map[string]string   `yaml:"texts"`
					Intents map[string]map[string][]string `yaml:"intents"`
				} `yaml:"bot"`
			}
			require.NoError(t, yaml.Unmarshal(b, &raw))
			for _, locale := range []string{"en", "es"} {
				for key := range def.Texts[locale] {
					require.Contains(t, raw.Bot.Texts[locale], key, "%s: texts.%s.%s", name, locale, key)
				}
				for intent := range def.Intents[locale] {
					require.Contains(t, raw.Bot.Intents[locale], intent, "%s: intents.%s.%s", name, locale, intent)
				}
			}
			cfg, err := decode(t, string(b))
			require.NoError(t, err)
			require.NoError(t, cfg.Validate())
			_, err = flows.NewBot(cfg)
			require.NoError(t, err)
		})
	}
}
