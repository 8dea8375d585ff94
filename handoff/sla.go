package handoff

import (
	"regexp"
	"strings"
	"time"
)

// Waiting is how long a shopper has waited for a person, against the
// first-response target of the conversation's channel.
type Waiting struct {
	Since          *time.Time `json:"since,omitempty"`
	WaitingSeconds int64      `json:"waiting_seconds"`
	TargetSeconds  int64      `json:"target_seconds"`
	Breached       bool       `json:"breached"`
}

// target is the first-response target of platform.
func (c Config) target(platform string) time.Duration {
	if d, ok := c.FirstResponseTargets[platform]; ok && d > 0 {
		return d
	}
	return c.DefaultFirstResponseTarget
}

// waiting measures a wait that began at since (nil: nobody waits).
func (c Config) waiting(platform string, since *time.Time, now time.Time) Waiting {
	target := c.target(platform)
	w := Waiting{Since: since, TargetSeconds: int64(target / time.Second)}
	if since == nil {
		return w
	}
	elapsed := max(now.Sub(*since), 0)
	w.WaitingSeconds = int64(elapsed / time.Second)
	w.Breached = elapsed > target
	return w
}

// placeholder matches {{name}}, {{ order }} and the like.
var placeholder = regexp.MustCompile(`\{\{\s*([a-z_]+)\s*\}\}`)

// fillPlaceholders replaces the placeholders of a canned response with
// values; a missing value leaves nothing behind (and no doubled space).
// Unknown placeholders stay as they are, so a typo is visible.
func fillPlaceholders(text string, values map[string]string) string {
	emptied := false
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		key := placeholder.FindStringSubmatch(m)[1]
		v, ok := values[key]
		if !ok {
			return m
		}
		emptied = emptied || v == ""
		return v
	})
	if !emptied {
		return out
	}
	// Tidy what an empty value leaves: "Hi , thanks" → "Hi, thanks".
	out = strings.Join(strings.FieldsFunc(out, func(r rune) bool { return r == ' ' }), " ")
	for _, p := range []string{",", ".", "!", "?"} {
		out = strings.ReplaceAll(out, " "+p, p)
	}
	return out
}
