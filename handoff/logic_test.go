package handoff

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"
)

func TestReplyWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for _, tc := range []struct {
		name     string
		platform string
		last     *time.Time
		tag      bool
		want     WindowState
	}{
		{"messenger within 24h", "messenger", ago(time.Hour), true, WindowOpen},
		{"messenger just before 24h", "messenger", ago(24*time.Hour - time.Second), true, WindowOpen},
		{"messenger at 24h takes the tag", "messenger", ago(24 * time.Hour), true, WindowHumanAgent},
		{"instagram after 3 days takes the tag", "instagram", ago(72 * time.Hour), true, WindowHumanAgent},
		{"after 3 days without the tag", "instagram", ago(72 * time.Hour), false, WindowClosed},
		{"messenger after 7 days", "messenger", ago(7 * 24 * time.Hour), true, WindowClosed},
		{"messenger after 8 days", "messenger", ago(8 * 24 * time.Hour), true, WindowClosed},
		{"no inbound yet", "messenger", nil, true, WindowClosed},
		{"whatsapp within 24h", "whatsapp", ago(23 * time.Hour), true, WindowOpen},
		{"whatsapp after 24h", "whatsapp", ago(25 * time.Hour), true, WindowClosed},
		{"a platform without windows", "webchat", ago(30 * 24 * time.Hour), false, WindowOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := replyWindow(tc.platform, tc.last, now, tc.tag)
			require.Equal(t, tc.want, w.State, w.Message)
			require.NotEmpty(t, w.Message)
		})
	}
	w := replyWindow("messenger", ago(8*24*time.Hour), now, true)
	require.Contains(t, w.Message, "Window closed")
	w = replyWindow("messenger", ago(30*time.Hour), now, true)
	require.Contains(t, w.Message, "HUMAN_AGENT")
	require.Equal(t, now.Add(-30*time.Hour).Add(7*24*time.Hour), *w.ClosesAt)
}

func TestBotWindow(t *testing.T) {
	t.Parallel()
	now := time.Now()
	recent, old := now.Add(-time.Hour), now.Add(-25*time.Hour)
	require.True(t, botWindowOpen("messenger", &recent, now))
	require.False(t, botWindowOpen("messenger", &old, now))
	require.False(t, botWindowOpen("instagram", nil, now))
	require.True(t, botWindowOpen("webchat", nil, now))
}

func TestWaitingAgainstTargets(t *testing.T) {
	t.Parallel()
	cfg := Config{}.withDefaults()
	now := time.Now()
	since := now.Add(-5 * time.Minute)
	require.False(t, cfg.waiting("messenger", &since, now).Breached, "messenger's target is an hour")
	require.True(t, cfg.waiting("whatsapp", &since, now).Breached, "other channels' target is two minutes")
	w := cfg.waiting("messenger", &since, now)
	require.Equal(t, int64(300), w.WaitingSeconds)
	require.Equal(t, int64(3600), w.TargetSeconds)
	require.False(t, cfg.waiting("messenger", nil, now).Breached)

	cfg.FirstResponseTargets = map[string]time.Duration{"messenger": time.Minute}
	require.True(t, cfg.waiting("messenger", &since, now).Breached)
}

func TestFillPlaceholders(t *testing.T) {
	t.Parallel()
	values := map[string]string{"name": "Ana", "order": "1001", "agent": "Bo"}
	for in, want := range map[string]string{
		"Hi {{name}}, order {{order}} is on its way. — {{agent}}": "Hi Ana, order 1001 is on its way. — Bo",
		"Hi {{ name }}!":         "Hi Ana!",
		"Keep {{unknown}} as is": "Keep {{unknown}} as is",
		"No placeholders.":       "No placeholders.",
	} {
		require.Equal(t, want, fillPlaceholders(in, values), in)
	}
	require.Equal(t, "Hi, I'm checking your order.", fillPlaceholders("Hi {{name}}, I'm checking your order.", map[string]string{"name": ""}))
	require.Equal(t, "<b>{{x}}</b> Ana", fillPlaceholders("<b>{{x}}</b> {{name}}", values), "no escaping here: templates escape")
}

func TestFormatSeconds(t *testing.T) {
	t.Parallel()
	for s, want := range map[int64]string{0: "0s", 59: "59s", 60: "1m", 3599: "59m", 3600: "1h 00m", 3720: "1h 02m", 90000: "1d 1h"} {
		require.Equal(t, want, formatSeconds(s))
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/console/queue?mine=1":       "/console/queue?mine=1",
		"/console/conversations/3":    "/console/conversations/3",
		"":                            "",
		"/console":                    "",
		"//evil.example/console/":     "",
		"https://evil.example/":       "",
		"/console/\\evil":             "",
		"/console/login?next=/x":      "",
		"/api/v1/queue":               "",
		"/console/x\r\nSet-Cookie: a": "",
	} {
		require.Equal(t, want, safeNext(next), next)
	}
}

func TestCrossOriginCheck(t *testing.T) {
	t.Parallel()
	xo, err := newCrossOrigin([]string{"https://admin.example.com"})
	require.NoError(t, err)
	_, err = newCrossOrigin([]string{"not an origin"})
	require.Error(t, err)

	app := fiber.New()
	app.All("/x", func(c *fiber.Ctx) error {
		if xo.allowed(c) {
			return c.SendStatus(http.StatusOK)
		}
		return c.SendStatus(http.StatusForbidden)
	})
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		want    int
	}{
		{"GET from anywhere", "GET", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 200},
		{"no browser headers", "POST", nil, 200},
		{"same-origin fetch", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"typed by the user", "POST", map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"cross-site fetch", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site sibling", "POST", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"old browser, other origin", "POST", map[string]string{"Origin": "https://evil.example"}, 403},
		{"old browser, own origin", "POST", map[string]string{"Origin": "http://console.example"}, 200},
		{"trusted origin", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://admin.example.com"}, 200},
		{"DELETE cross-site", "DELETE", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	} {
		req := httptest.NewRequest(tc.method, "http://console.example/x", nil)
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		resp, err := app.Test(req)
		require.NoError(t, err)
		require.Equal(t, tc.want, resp.StatusCode, tc.name)
	}
}

func TestTemplatesParse(t *testing.T) {
	t.Parallel()
	u := newUI()
	for _, name := range pageNames {
		require.NotNil(t, u.pages[name], name)
	}
	require.Contains(t, u.static, "console.js")
	require.Contains(t, u.static, "console.css")
}
