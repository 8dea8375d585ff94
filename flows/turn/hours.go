package turn

import "time"

// Hours are when people answer, in the store's time zone.
type Hours struct {
	Loc *time.Location
	// Days is indexed by time.Weekday; a zero Span is a closed day.
	Days [7]Span
	// Always is true when no hours are configured: someone always answers.
	Always bool
}

// Span is an opening from From to To, minutes after midnight.
type Span struct{ From, To int }

// Open reports whether people answer at t.
func (h Hours) Open(t time.Time) bool {
	if h.Always {
		return true
	}
	t = t.In(h.Loc)
	s := h.Days[t.Weekday()]
	m := t.Hour()*60 + t.Minute()
	return s.To > s.From && m >= s.From && m < s.To
}

// NextOpen returns the next opening after t, or false when no day opens.
func (h Hours) NextOpen(t time.Time) (time.Time, bool) {
	if h.Always {
		return t, true
	}
	t = t.In(h.Loc)
	for d := range 8 {
		day := t.AddDate(0, 0, d)
		s := h.Days[day.Weekday()]
		if s.To <= s.From {
			continue
		}
		open := time.Date(day.Year(), day.Month(), day.Day(), s.From/60, s.From%60, 0, 0, h.Loc)
		if open.After(t) {
			return open, true
		}
	}
	return time.Time{}, false
}
