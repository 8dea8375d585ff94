package flows

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	// The business time zone must load on hosts without a zoneinfo database.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"

	"github.com/frontdesk/frontdesk/flows/turn"
	"github.com/frontdesk/frontdesk/flows/understand"
	"github.com/frontdesk/frontdesk/orders"
)

// Config is the bot's configuration: the `bot:` section of the
// configuration file. Start from DefaultConfig and change what differs;
// decoding YAML into a Config does exactly that, so keys the file leaves
// out keep their defaults. The zero Config means DefaultConfig.
type Config struct {
	// StoreName fills {{store}}; the caller sets it.
	StoreName string `yaml:"-"`
	// DefaultLocale is the language of a conversation until the shopper
	// writes in another configured one.
	DefaultLocale string        `yaml:"default_locale"`
	Policies      Policies      `yaml:"policies"`
	BusinessHours BusinessHours `yaml:"business_hours"`
	// Intents maps locale → intent → phrases that name it. An intent
	// listed here replaces that intent's default phrases for the locale.
	Intents map[string]map[string][]string `yaml:"intents"`
	// Texts maps locale → text key → text: every word the bot says, with
	// {{placeholders}}. A key left out keeps its default.
	Texts map[string]map[string]string `yaml:"texts"`
}

// Policies are the store's rules.
type Policies struct {
	// ReturnWindowDays after delivery an item may be returned.
	ReturnWindowDays int `yaml:"return_window_days"`
	// Resolutions offered for a return, in order: refund, exchange,
	// store_credit.
	Resolutions []string `yaml:"resolutions"`
	// AutoApproveLimit is the highest damaged-item value (price ×
	// quantity of the line) the bot approves by itself.
	AutoApproveLimit Amount `yaml:"auto_approve_limit"`
	// HighValueThreshold: orders worth this or more go to a person
	// before the bot acts on them; "0" turns the rule off.
	HighValueThreshold Amount `yaml:"high_value_threshold"`
	// StalledAfterDays without a carrier scan make a shipment stalled.
	StalledAfterDays int `yaml:"stalled_after_days"`
	// PhotoReminderAfter reminds a shopper who sent no photo; 0 never.
	PhotoReminderAfter time.Duration `yaml:"photo_reminder_after"`
	// FollowUpAfter re-checks a stalled shipment and tells the shopper; 0 never.
	FollowUpAfter time.Duration `yaml:"follow_up_after"`
	// HandoffAfterMisunderstood consecutive messages the bot does not
	// understand hand the conversation off; 0 never does.
	HandoffAfterMisunderstood int `yaml:"handoff_after_misunderstood"`
}

// BusinessHours are when people answer. Out of hours, a hand-off says
// when a person will.
type BusinessHours struct {
	// Timezone is an IANA name, such as Europe/Madrid.
	Timezone string `yaml:"timezone"`
	// Days maps a weekday (monday … sunday) to its hours, "09:00-18:00";
	// a day left out or empty is closed. With no day at all, people
	// answer around the clock.
	Days map[string]string `yaml:"days"`
}

// Amount is money in minor units (cents). YAML writes it as a decimal
// string with up to two decimals: "100.00".
type Amount int64

// ParseAmount reads "100", "100.5" or "100.00".
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an amount like 100.00", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1<<40 {
		return 0, fmt.Errorf("%q is not an amount like 100.00", s)
	}
	f, _ := strconv.Atoi((frac + "00")[:2])
	return Amount(w*100 + int64(f)), nil
}

// String writes the amount as YAML does: "100.00".
func (a Amount) String() string { return turn.FormatMoney(orders.Money(a)) }

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *Amount) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseAmount(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*a = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (a Amount) MarshalYAML() (any, error) { return a.String(), nil }

var weekdayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// DefaultConfig is the configuration Frontdesk ships: English and Spanish
// texts and phrases, a 30-day return window, auto-approval up to 100.00.
func DefaultConfig() Config {
	c := Config{
		DefaultLocale: "en",
		Policies: Policies{
			ReturnWindowDays:          30,
			Resolutions:               []string{orders.ResolutionRefund, orders.ResolutionExchange, orders.ResolutionCredit},
			AutoApproveLimit:          10000,
			HighValueThreshold:        50000,
			StalledAfterDays:          4,
			PhotoReminderAfter:        30 * time.Minute,
			FollowUpAfter:             24 * time.Hour,
			HandoffAfterMisunderstood: 2,
		},
		BusinessHours: BusinessHours{Timezone: "UTC", Days: defaultDays()},
		Intents:       map[string]map[string][]string{"en": {}, "es": {}},
		Texts:         map[string]map[string]string{"en": {}, "es": {}},
	}
	for _, d := range defaultTexts {
		c.Texts["en"][d.key] = d.en
		c.Texts["es"][d.key] = d.es
	}
	for _, d := range defaultIntents {
		c.Intents["en"][d.intent] = slices.Clone(d.en)
		c.Intents["es"][d.intent] = slices.Clone(d.es)
	}
	return c
}

func defaultDays() map[string]string {
	days := map[string]string{}
	for _, d := range weekdayNames[1:6] {
		days[d] = "09:00-18:00"
	}
	return days
}

// UnmarshalYAML decodes over DefaultConfig, refusing unknown keys.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	if errs := unknownKeys(n, reflect.TypeFor[Config](), ""); len(errs) > 0 {
		return errors.Join(errs...)
	}
	type plain Config // without this method
	d := DefaultConfig()
	d.StoreName = c.StoreName
	d.BusinessHours.Days = nil // listed days replace the defaults whole
	if err := n.Decode((*plain)(&d)); err != nil {
		return err
	}
	if d.BusinessHours.Days == nil {
		d.BusinessHours.Days = defaultDays()
	}
	*c = d
	return nil
}

// unknownKeys names the keys of n that typ has no field for.
func unknownKeys(n *yaml.Node, typ reflect.Type, path string) []error {
	if n.Kind != yaml.MappingNode || typ.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	for f := range typ.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %s%s", k.Line, path, k.Value))
			continue
		}
		errs = append(errs, unknownKeys(n.Content[i+1], ft, path+k.Value+".")...)
	}
	return errs
}

// withDefaults fills what c leaves empty: the zero Config becomes
// DefaultConfig, missing texts and intents come from the defaults.
func (c Config) withDefaults() Config {
	def := DefaultConfig()
	if reflect.DeepEqual(c, Config{StoreName: c.StoreName}) {
		def.StoreName = c.StoreName
		c = def
	}
	if c.StoreName == "" {
		c.StoreName = "our store"
	}
	if c.DefaultLocale == "" {
		c.DefaultLocale = def.DefaultLocale
	}
	if c.Policies.Resolutions == nil {
		c.Policies.Resolutions = def.Policies.Resolutions
	}
	if c.BusinessHours.Timezone == "" {
		c.BusinessHours.Timezone = def.BusinessHours.Timezone
	}
	if c.BusinessHours.Days == nil {
		c.BusinessHours.Days = def.BusinessHours.Days
	}
	texts := map[string]map[string]string{}
	for locale, given := range c.Texts {
		texts[locale] = maps.Clone(given)
	}
	for locale, defaults := range def.Texts {
		if texts[locale] == nil {
			texts[locale] = map[string]string{}
		}
		for k, v := range defaults {
			if _, ok := texts[locale][k]; !ok {
				texts[locale][k] = v
			}
		}
	}
	// A language Frontdesk does not ship falls back to English where the
	// store wrote no text, so the default language is always complete.
	if _, shipped := def.Texts[c.DefaultLocale]; !shipped && texts[c.DefaultLocale] != nil {
		for k, v := range def.Texts["en"] {
			if _, ok := texts[c.DefaultLocale][k]; !ok {
				texts[c.DefaultLocale][k] = v
			}
		}
	}
	c.Texts = texts
	intents := map[string]map[string][]string{}
	for locale, given := range c.Intents {
		intents[locale] = maps.Clone(given)
	}
	for locale, defaults := range def.Intents {
		if intents[locale] == nil {
			intents[locale] = map[string][]string{}
		}
		for k, v := range defaults {
			if _, ok := intents[locale][k]; !ok {
				intents[locale][k] = v
			}
		}
	}
	c.Intents = intents
	return c
}

// Validate names every field of the configuration that is wrong, as the
// bot would use it (defaults filled).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Texts[c.DefaultLocale] == nil {
		bad("default_locale: %q has no texts", c.DefaultLocale)
	}
	p := c.Policies
	if p.ReturnWindowDays < 1 {
		bad("policies.return_window_days: %d, must be at least 1", p.ReturnWindowDays)
	}
	if len(p.Resolutions) == 0 {
		bad("policies.resolutions: empty, list at least one of refund, exchange, store_credit")
	}
	for i, r := range p.Resolutions {
		switch {
		case r != orders.ResolutionRefund && r != orders.ResolutionExchange && r != orders.ResolutionCredit:
			bad("policies.resolutions[%d]: %q, must be refund, exchange or store_credit", i, r)
		case slices.Index(p.Resolutions, r) != i:
			bad("policies.resolutions[%d]: %q is listed twice", i, r)
		}
	}
	if p.AutoApproveLimit < 0 {
		bad("policies.auto_approve_limit: %s, must not be negative", p.AutoApproveLimit)
	}
	if p.HighValueThreshold < 0 {
		bad("policies.high_value_threshold: %s, must not be negative", p.HighValueThreshold)
	}
	if p.StalledAfterDays < 1 {
		bad("policies.stalled_after_days: %d, must be at least 1", p.StalledAfterDays)
	}
	if p.PhotoReminderAfter < 0 {
		bad("policies.photo_reminder_after: %s, must not be negative", p.PhotoReminderAfter)
	}
	if p.FollowUpAfter < 0 {
		bad("policies.follow_up_after: %s, must not be negative", p.FollowUpAfter)
	}
	if p.HandoffAfterMisunderstood < 0 {
		bad("policies.handoff_after_misunderstood: %d, must be 0 (never) or more", p.HandoffAfterMisunderstood)
	}
	if _, err := time.LoadLocation(c.BusinessHours.Timezone); err != nil {
		bad("business_hours.timezone: %q is not a time zone (use an IANA name such as Europe/Madrid)", c.BusinessHours.Timezone)
	}
	for _, day := range sorted(c.BusinessHours.Days) {
		if !slices.Contains(weekdayNames, day) {
			bad("business_hours.days.%s: not a weekday (monday … sunday)", day)
		} else if _, err := parseSpan(c.BusinessHours.Days[day]); err != nil {
			bad("business_hours.days.%s: %v", day, err)
		}
	}
	for _, locale := range sorted(c.Intents) {
		for _, intent := range sorted(c.Intents[locale]) {
			if !slices.Contains(understand.AllIntents, intent) {
				bad("intents.%s.%s: unknown intent (known: %s)", locale, intent, strings.Join(understand.AllIntents, ", "))
				continue
			}
			for i, phrase := range c.Intents[locale][intent] {
				if len(understand.Words(phrase)) == 0 {
					bad("intents.%s.%s[%d]: %q has no words", locale, intent, i, phrase)
				}
			}
		}
	}
	keys := map[string]bool{}
	for _, d := range defaultTexts {
		keys[d.key] = true
	}
	for _, locale := range sorted(c.Texts) {
		for _, key := range sorted(c.Texts[locale]) {
			if !keys[key] {
				bad("texts.%s.%s: unknown text key", locale, key)
				continue
			}
			for _, m := range turn.Placeholder.FindAllStringSubmatch(c.Texts[locale][key], -1) {
				if !slices.Contains(turn.Placeholders, m[1]) {
					bad("texts.%s.%s: unknown placeholder {{%s}}", locale, key, m[1])
				}
			}
		}
	}
	return errors.Join(errs...)
}

func sorted[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// parseSpan reads "09:00-18:00"; "" is a closed day.
func parseSpan(s string) (turn.Span, error) {
	if strings.TrimSpace(s) == "" {
		return turn.Span{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	f, err1 := parseClock(from)
	t, err2 := parseClock(to)
	if !ok || err1 != nil || err2 != nil {
		return turn.Span{}, fmt.Errorf("%q is not hours like 09:00-18:00", s)
	}
	if t <= f {
		return turn.Span{}, fmt.Errorf("%q closes before it opens", s)
	}
	return turn.Span{From: f, To: t}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

// env builds what the decisions read. c has defaults and is valid.
func (c Config) env() (*turn.Env, error) {
	loc, err := time.LoadLocation(c.BusinessHours.Timezone)
	if err != nil {
		return nil, fmt.Errorf("business_hours.timezone: %w", err)
	}
	hours := turn.Hours{Loc: loc, Always: true}
	for day, span := range c.BusinessHours.Days {
		s, err := parseSpan(span)
		if err != nil {
			return nil, fmt.Errorf("business_hours.days.%s: %w", day, err)
		}
		hours.Days[slices.Index(weekdayNames, day)] = s
		if s.To > s.From {
			hours.Always = false
		}
	}
	p := c.Policies
	return &turn.Env{
		Store: c.StoreName,
		Policy: turn.Policy{
			ReturnWindowDays:          p.ReturnWindowDays,
			Resolutions:               p.Resolutions,
			AutoApproveLimit:          orders.Money(p.AutoApproveLimit),
			HighValueThreshold:        orders.Money(p.HighValueThreshold),
			StalledAfter:              time.Duration(p.StalledAfterDays) * 24 * time.Hour,
			PhotoReminderAfter:        p.PhotoReminderAfter,
			FollowUpAfter:             p.FollowUpAfter,
			HandoffAfterMisunderstood: p.HandoffAfterMisunderstood,
		},
		Hours:         hours,
		Texts:         c.Texts,
		DefaultLocale: c.DefaultLocale,
		Matcher:       understand.NewMatcher(c.Intents),
	}, nil
}
