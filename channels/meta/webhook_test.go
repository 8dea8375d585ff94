package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/conversation"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from Parse's output")

// fixtureNames lists the webhook bodies in testdata: the samples copied from
// shared/payloads (messenger_*, instagram_*) and our own synthetic_* ones.
func fixtureNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		if !strings.HasSuffix(p, ".golden.json") {
			names = append(names, filepath.Base(p))
		}
	}
	require.NotEmpty(t, names)
	return names
}

// readFixture returns the webhook body in testdata/name as Meta would send it.
//
// The *_chatwoot_factory files are converted from Chatwoot's FactoryBot
// factories, which build only the "entry" part of a webhook: they lack the
// top-level "object": "instagram" every real Instagram webhook carries, and
// Parse rightly refuses a body without it (ErrUnsupportedObject). They are
// wrapped here, rather than edited in testdata, so that the copies stay
// identical to shared/payloads.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	if !strings.HasSuffix(name, "_chatwoot_factory.json") {
		return body
	}
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &fields))
	require.NotContains(t, fields, "object")
	fields["object"] = json.RawMessage(`"instagram"`)
	body, err = json.Marshal(fields)
	require.NoError(t, err)
	return body
}

func TestParseGolden(t *testing.T) {
	t.Parallel()

	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			events, err := New(Config{}).Parse(readFixture(t, name))
			var malformed *channels.MalformedError
			if strings.Contains(name, "garbage") {
				require.ErrorAs(t, err, &malformed, "unreadable events are reported")
				require.Len(t, malformed.Reasons, 2)
			} else {
				require.NoError(t, err)
			}
			if events == nil {
				events = []conversation.Inbound{} // "[]" reads better than "null"
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep "<URL>" placeholders readable
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(events))
			got := buf.Bytes()

			golden := filepath.Join("testdata", strings.TrimSuffix(name, ".json")+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file: run go test ./channels/meta -run TestParseGolden -update")
			require.Equal(t, string(want), string(got))
		})
	}
}

// TestParseWholeMatchesByLevel: a webhook that decodes whole parses to
// what reading it entry by entry and event by event gives, so the golden
// files, which the whole decoding produces, vouch for both.
func TestParseWholeMatchesByLevel(t *testing.T) {
	t.Parallel()

	wholes := 0
	for _, name := range fixtureNames(t) {
		body := readFixture(t, name)
		byLevel, err := parseByLevel(body)
		whole, ok := parseWhole(body)
		if !ok {
			continue
		}
		wholes++
		require.NoError(t, err, name)
		require.Equal(t, byLevel, whole, name)
	}
	require.Greater(t, wholes, 10, "most fixtures decode whole")
	_, ok := parseWhole([]byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":1.5}}]}]}`))
	require.False(t, ok, "an event that does not decode sends the webhook level by level")
}

// ms is the UTC time of epoch milliseconds, as Parse returns it.
func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

func ptr[T any](v T) *T { return &v }

// TestParseFixtures hand-checks the fields that matter in each fixture, so a
// wrong golden file cannot hide a wrong mapping.
func TestParseFixtures(t *testing.T) {
	t.Parallel()

	tests := []struct {
		file string
		want []conversation.Inbound
	}{
		{"messenger_text.json", []conversation.Inbound{{
			Kind:              conversation.KindMessage,
			Platform:          conversation.Messenger,
			ChannelID:         "12345654332",
			SenderID:          "987654321432",
			PlatformMessageID: "mid.1457764197618:41d102a3e1ae206a38",
			Text:              "hello, world!",
			Timestamp:         ms(1457764197627),
		}}},
		{"messenger_echo_text_with_app_id_metadata.json", []conversation.Inbound{{
			Kind:              conversation.KindEcho,
			Platform:          conversation.Messenger,
			ChannelID:         "PAGE_ID",
			SenderID:          "USER_ID",
			PlatformMessageID: "mid.1457764197618:41d102a3e1ae206a38",
			Text:              "hello, text message world!",
			AppID:             "1517776481860111",
			Metadata:          "DEVELOPER_DEFINED_METADATA_STRING",
			Timestamp:         ms(1480114700296),
		}}},
		{"messenger_delivery.json", []conversation.Inbound{{
			Kind:         conversation.KindDelivery,
			Platform:     conversation.Messenger,
			ChannelID:    "12345654332",
			SenderID:     "987654321432",
			DeliveredIDs: []string{"mid.1458668856218:ed81099e15d3f4f233"},
			Watermark:    ms(1458668856253),
		}}},
		{"messenger_read.json", []conversation.Inbound{{
			Kind:      conversation.KindRead,
			Platform:  conversation.Messenger,
			ChannelID: "12345654332",
			SenderID:  "987654321432",
			Watermark: ms(1458668856253),
			Timestamp: ms(1458668856463),
		}}},
		{"messenger_quick_reply.json", []conversation.Inbound{{
			Kind:              conversation.KindMessage,
			Platform:          conversation.Messenger,
			ChannelID:         "1234567890321",
			SenderID:          "987654321432",
			PlatformMessageID: "mid.1458696618141:b4ef9d19ec21086067",
			Text:              "quick reply text",
			Payload:           "PAYLOAD_QUICK_REPLY",
			Timestamp:         ms(1470779510432),
		}}},
		{"messenger_postback_with_title_mid_referral.json", []conversation.Inbound{{
			Kind:              conversation.KindPostback,
			Platform:          conversation.Messenger,
			ChannelID:         "0",
			SenderID:          "0",
			PlatformMessageID: "m_1457764197618:41d102a3e1ae206a38",
			Text:              "title",
			Payload:           "USER_DEFINED_PAYLOAD",
			Timestamp:         ms(2222222),
		}}},
		{"messenger_reaction_react.json", []conversation.Inbound{{
			Kind:              conversation.KindReaction,
			Platform:          conversation.Messenger,
			ChannelID:         "PAGE_ID",
			SenderID:          "USER_ID",
			PlatformMessageID: "reaction:original_message_id:USER_ID:react:1572465098502",
			ReplyTo:           "original_message_id",
			Reaction:          "😢",
			Timestamp:         ms(1572465098502),
		}}},
		{"messenger_image_attachment.json", []conversation.Inbound{{
			Kind:              conversation.KindMessage,
			Platform:          conversation.Messenger,
			ChannelID:         "12345654332",
			SenderID:          "987654321432",
			PlatformMessageID: "mid.1458696618141:b4ef9d19ec21086067",
			Attachments:       []conversation.Attachment{{Type: "image", URL: "IMAGE_URL"}},
			Timestamp:         ms(1458696618268),
		}}},
		{"messenger_attachments_image_fallback_location.json", []conversation.Inbound{{
			Kind:              conversation.KindMessage,
			Platform:          conversation.Messenger,
			ChannelID:         "PAGE_ID",
			SenderID:          "USER_ID",
			PlatformMessageID: "mid.1458696618141:b4ef9d19ec21086067",
			Attachments: []conversation.Attachment{
				{Type: "image", URL: "http://image.url"},
				{Type: "fallback", URL: "<URL_OF_THE_ATTACHMENT>", Title: "<TITLE_OF_THE_URL_ATTACHMENT>"},
				{Type: "location", Lat: ptr(52.3765533), Long: ptr(9.7389123)},
			},
			Timestamp: ms(1458692752478),
		}}},
		// Handover events are of a kind Frontdesk does not use.
		{"messenger_handover_pass_thread_control.json", []conversation.Inbound{{
			Kind: conversation.KindUnused, Platform: conversation.Messenger, ChannelID: "fakeId", SenderID: "fakeId",
			Timestamp: ms(1572630578783),
		}}},
		{"messenger_handover_take_thread_control.json", []conversation.Inbound{{
			Kind: conversation.KindUnused, Platform: conversation.Messenger, ChannelID: "fakeId", SenderID: "fakeId",
			Timestamp: ms(1572630386105),
		}}},
		{"instagram_dm_seen.json", []conversation.Inbound{{
			Kind:      conversation.KindRead,
			Platform:  conversation.Instagram,
			ChannelID: "17841452691600098",
			SenderID:  "5614879045272581",
			ReplyTo:   "MESSAGE-ID",
			Watermark: ms(1668022333735),
			Timestamp: ms(1668022333735),
		}}},
		{"instagram_dm_text_chatwoot_factory.json", []conversation.Inbound{{
			Kind:              conversation.KindMessage,
			Platform:          conversation.Instagram,
			ChannelID:         "chatwoot-app-user-id-1",
			SenderID:          "Sender-id-1",
			PlatformMessageID: "message-id-1",
			Text:              "This is the first message from the customer",
			Timestamp:         time.Date(2021, 9, 8, 6, 34, 4, 0, time.UTC),
		}}},
		{"instagram_dm_story_reply_chatwoot_factory.json", []conversation.Inbound{{
			Kind:              conversation.KindMessage,
			Platform:          conversation.Instagram,
			ChannelID:         "chatwoot-app-user-id-1",
			SenderID:          "Sender-id-1",
			PlatformMessageID: "message-id-1",
			Text:              "This is the story reply",
			Attachments:       []conversation.Attachment{{Type: "story_reply", URL: "https://chatwoot-assets.local/sample.png"}},
			Timestamp:         time.Date(2021, 9, 8, 6, 34, 4, 0, time.UTC),
		}}},
		{"instagram_dm_story_mention_chatwoot_factory.json", []conversation.Inbound{{
			Kind:              conversation.KindMessage,
			Platform:          conversation.Instagram,
			ChannelID:         "chatwoot-app-user-id-1",
			SenderID:          "Sender-id-1",
			PlatformMessageID: "message-id-1",
			Attachments:       []conversation.Attachment{{Type: "story_mention", URL: "https://www.example.com/test.jpeg"}},
			Timestamp:         time.Date(2021, 9, 8, 6, 34, 4, 0, time.UTC),
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()

			got, err := New(Config{}).Parse(readFixture(t, tt.file))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// mids returns each event's PlatformMessageID, to check which events a
// batch yielded and in which order.
func mids(events []conversation.Inbound) []string {
	var ids []string
	for _, e := range events {
		ids = append(ids, e.PlatformMessageID)
	}
	return ids
}

func TestParseBatchSkipsGarbage(t *testing.T) {
	t.Parallel()

	events, skipped, err := parseWebhook(readFixture(t, "synthetic_batch_garbage.json"))
	require.NoError(t, err)
	require.Equal(t, []string{
		"m_good_first",
		"postback:7000000000000001:1735689600200", // no mid: made from sender and time
		"m_good_second",
		"m_standby",
	}, mids(events))
	require.Equal(t, "106000000000002", events[3].ChannelID, "standby events are parsed like messaging ones")
	require.Equal(t, []bool{false, false, false, true}, []bool{events[0].Standby, events[1].Standby, events[2].Standby, events[3].Standby},
		"and marked as standby")
	require.Len(t, skipped, 2)
	require.ErrorContains(t, skipped[0], "entry 0: messaging 1")
	require.ErrorContains(t, skipped[1], "entry 0: messaging 2")
}

func TestParseSkipsMalformedEntriesAndEvents(t *testing.T) {
	t.Parallel()

	good := `{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"message":{"mid":"m_ok","text":"hi"}}`
	body := `{"object":"page","entry":[
		42,
		{"messaging":"not a list"},
		{"messaging":[
			{"sender":{"id":"1"},"recipient":{"id":"2"},"message":{"text":"no mid"}},
			{"recipient":{"id":"2"},"message":{"mid":"m_no_sender"}},
			{"sender":{"id":1.5},"recipient":{"id":"2"},"message":{"mid":"m_float_id"}},
			{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":"yesterday","message":{"mid":"m_bad_time"}},
			{"sender":{"id":"1"},"recipient":{"id":"2"},"reaction":{"action":"react","emoji":"x"}},
			` + good + `
		]}
	]}`
	events, skipped, err := parseWebhook([]byte(body))
	require.NoError(t, err)
	require.Equal(t, []string{"m_ok"}, mids(events))
	require.Len(t, skipped, 7)
}

func TestParseSyntheticInstagram(t *testing.T) {
	t.Parallel()

	events, err := New(Config{}).Parse(readFixture(t, "synthetic_instagram_events.json"))
	require.NoError(t, err)
	require.Len(t, events, 7)
	for _, e := range events {
		require.Equal(t, conversation.Instagram, e.Platform)
	}

	react, unreact := events[0], events[1]
	require.Equal(t, conversation.KindReaction, react.Kind)
	require.Equal(t, "❤️", react.Reaction)
	require.False(t, react.ReactionRemoved)
	require.Equal(t, conversation.KindReaction, unreact.Kind)
	require.True(t, unreact.ReactionRemoved)
	require.Equal(t, "aWdfZAG1_reacted", unreact.ReplyTo)
	require.NotEqual(t, react.PlatformMessageID, unreact.PlatformMessageID)

	require.Equal(t, conversation.KindDeleted, events[2].Kind)
	require.Equal(t, "aWdfZAG1_unsent", events[2].PlatformMessageID)

	require.Equal(t, []conversation.Attachment{
		{Type: "share", URL: "https://lookaside.example/share"},
		{Type: "reel", URL: "https://lookaside.example/reel", Title: "Unboxing"},
		{Type: "unknown", URL: "https://lookaside.example/template"},
		{Type: "unknown"}, // payload of the wrong shape: kept, not dropped
	}, events[3].Attachments)

	require.Equal(t, conversation.KindMessage, events[4].Kind)
	require.Equal(t, []conversation.Attachment{{Type: "unknown"}}, events[4].Attachments)

	require.Equal(t, "aWdfZAG1_earlier", events[5].ReplyTo)

	echo := events[6]
	require.Equal(t, conversation.KindEcho, echo.Kind)
	require.Equal(t, "17841400000000001", echo.ChannelID)
	require.Equal(t, "1200000000000001", echo.SenderID)
	require.Equal(t, []conversation.Attachment{{Type: "file", URL: "https://lookaside.example/label.pdf"}}, echo.Attachments)
}

func TestParseSyntheticMessenger(t *testing.T) {
	t.Parallel()

	events, err := New(Config{}).Parse(readFixture(t, "synthetic_messenger_misc.json"))
	require.NoError(t, err)
	require.Equal(t, []string{"m_sticker", "m_media", "", "", "reaction:m_sticker:7000000000000001:unreact:1735689800005", "m_inbox_echo"},
		mids(events))
	require.Equal(t, []conversation.InboundKind{conversation.KindUnused, conversation.KindUnused},
		[]conversation.InboundKind{events[2].Kind, events[3].Kind}, "optin and referral events are of kinds Frontdesk does not use")
	events = slices.Delete(events, 2, 4)

	require.Equal(t, []conversation.Attachment{
		{Type: "sticker", URL: "https://scontent.example/thumbsup.png", StickerID: "369239263222822"},
	}, events[0].Attachments)
	require.Equal(t, ms(1735689800002), events[1].Timestamp, "epoch milliseconds in a string")
	require.Equal(t, []string{"video", "audio", "file"}, []string{
		events[1].Attachments[0].Type, events[1].Attachments[1].Type, events[1].Attachments[2].Type,
	})
	require.Equal(t, "like", events[2].Reaction, "reaction name when there is no emoji")
	require.True(t, events[2].ReactionRemoved)
	require.Equal(t, conversation.KindEcho, events[3].Kind)
	require.Equal(t, "263902037430900", events[3].AppID)
	require.Equal(t, "7000000000000001", events[3].SenderID)
}

func TestParseRejects(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		body        string
		unsupported bool
	}{
		{"empty", ``, false},
		{"not JSON", `<html>hello</html>`, false},
		{"truncated", `{"object":"page","entry":[`, false},
		{"array", `[{"object":"page"}]`, false},
		{"entry not a list", `{"object":"page","entry":{}}`, false},
		{"whatsapp", `{"object":"whatsapp_business_account","entry":[]}`, true},
		{"no object", `{"entry":[]}`, true},
		{"null", `null`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			events, err := New(Config{}).Parse([]byte(tt.body))
			require.Error(t, err)
			require.Nil(t, events)
			if tt.unsupported {
				require.ErrorIs(t, err, ErrUnsupportedObject)
			} else {
				require.NotErrorIs(t, err, ErrUnsupportedObject)
			}
		})
	}
}

func TestParseEmptyBatch(t *testing.T) {
	t.Parallel()

	events, err := New(Config{}).Parse([]byte(`{"object":"instagram","entry":[{"id":"1","time":1,"changes":[]}]}`))
	require.NoError(t, err)
	require.Empty(t, events)
}

func TestFlexID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		json    string
		want    flexID
		wantErr bool
	}{
		{`"1254477777772919"`, "1254477777772919", false},
		{`"PAGE_ID"`, "PAGE_ID", false},
		{`1254477777772919`, "1254477777772919", false},
		// Past float64's exact range: must stay digit for digit.
		{`12544777777729191234567`, "12544777777729191234567", false},
		{`null`, "", false},
		{`""`, "", false},
		{`1.5`, "", true},
		{`1e3`, "", true},
		{`-1`, "", true},
		{`true`, "", true},
		{`{}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			t.Parallel()

			var got flexID
			err := json.Unmarshal([]byte(tt.json), &got)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFlexTime(t *testing.T) {
	t.Parallel()

	tests := []struct {
		json    string
		want    time.Time
		wantErr bool
	}{
		{`1457764197627`, ms(1457764197627), false},
		{`"1457764197627"`, ms(1457764197627), false},
		{`"2021-09-08T06:34:04+0000"`, time.Date(2021, 9, 8, 6, 34, 4, 0, time.UTC), false},
		{`"2021-09-08T08:34:04+02:00"`, time.Date(2021, 9, 8, 6, 34, 4, 0, time.UTC), false},
		{`"2021-09-08T06:34:04.250Z"`, time.Date(2021, 9, 8, 6, 34, 4, 250e6, time.UTC), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`0`, time.Time{}, false},
		{`1457764197627.5`, time.Time{}, true},
		{`-1`, time.Time{}, true},
		{`9223372036854775807`, time.Time{}, true},
		{`"yesterday"`, time.Time{}, true},
		{`true`, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			t.Parallel()

			var got flexTime
			err := json.Unmarshal([]byte(tt.json), &got)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Time())
		})
	}
}

// FuzzParse checks that Parse never panics and that whatever it returns is
// usable: known kinds, both parties set, encodable as JSON.
func FuzzParse(f *testing.F) {
	for _, name := range fixtureNames(f) {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{}]}]}`))
	f.Add([]byte(`{"object":"instagram","entry":[null,{"standby":[null]}]}`))

	kinds := map[conversation.InboundKind]bool{
		conversation.KindMessage: true, conversation.KindPostback: true, conversation.KindReaction: true,
		conversation.KindRead: true, conversation.KindDelivery: true, conversation.KindEcho: true,
		conversation.KindDeleted: true, conversation.KindUnused: true,
	}
	a := New(Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := a.Parse(body)
		var malformed *channels.MalformedError
		if err != nil && !errors.As(err, &malformed) {
			require.Nil(t, events)
			return
		}
		for _, e := range events {
			require.True(t, kinds[e.Kind], "kind %q", e.Kind)
			require.NotEmpty(t, e.Platform)
			require.NotEmpty(t, e.ChannelID)
			require.NotEmpty(t, e.SenderID)
		}
		_, err = json.Marshal(events)
		require.NoError(t, err)
	})
}
