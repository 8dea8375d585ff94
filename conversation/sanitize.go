package conversation

import "strings"

// clean makes s storable in PostgreSQL text columns: invalid UTF-8 becomes
// U+FFFD and NUL characters, which PostgreSQL refuses, are removed. Without
// this one malformed message would fail its webhook forever — a poison pill
// that also blocks every redelivery of the batch it came in.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// sanitize cleans every string of an inbound event.
func sanitize(ev Inbound) Inbound {
	for _, p := range []*string{&ev.ChannelID, &ev.SenderID, &ev.PlatformMessageID, &ev.Text, &ev.Payload,
		&ev.ReplyTo, &ev.Reaction, &ev.AppID, &ev.Metadata} {
		*p = clean(*p)
	}
	if len(ev.Attachments) > 0 {
		atts := make([]Attachment, len(ev.Attachments))
		for i, a := range ev.Attachments {
			a.Type, a.URL, a.Title, a.StickerID = clean(a.Type), clean(a.URL), clean(a.Title), clean(a.StickerID)
			atts[i] = a
		}
		ev.Attachments = atts
	}
	for i := range ev.DeliveredIDs {
		ev.DeliveredIDs[i] = clean(ev.DeliveredIDs[i])
	}
	return ev
}
