package turn

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/orders"
)

// Placeholder matches {{name}} in a text.
var Placeholder = regexp.MustCompile(`\{\{\s*([a-z_]+)\s*\}\}`)

// Placeholders lists every placeholder a text may use.
var Placeholders = []string{"store", "name", "order", "carrier", "tracking_number", "tracking_url", "eta",
	"delivered", "last_scan", "followup", "rma", "label_url", "window", "closed", "next_open", "item",
	"items", "amount", "case", "resolution", "weekday", "day", "month", "year", "date", "time", "n"}

var cleanups = strings.NewReplacer(" ,", ",", " .", ".", " !", "!", " ?", "?", "( )", "", "  ", " ")

// T renders the text key in the conversation's language. vars are
// placeholder names and values in pairs; store, name, order and window
// are filled from the turn. A placeholder without a value renders empty.
func (t *Turn) T(key string, vars ...string) string {
	text, ok := t.Env.Texts[t.Locale()][key]
	if !ok {
		text, ok = t.Env.Texts[t.Env.DefaultLocale][key]
	}
	if !ok {
		return key
	}
	if !strings.Contains(text, "{{") {
		return text
	}
	values := map[string]string{
		"store":  t.Env.Store,
		"name":   t.firstName(),
		"order":  t.Data[KeyOrder],
		"window": strconv.Itoa(t.Env.Policy.ReturnWindowDays),
	}
	for i := 0; i+1 < len(vars); i += 2 {
		values[vars[i]] = vars[i+1]
	}
	text = Placeholder.ReplaceAllStringFunc(text, func(m string) string {
		return values[Placeholder.FindStringSubmatch(m)[1]]
	})
	// An empty placeholder leaves a stray space: "Hi , welcome back".
	return strings.TrimSpace(cleanups.Replace(cleanups.Replace(text)))
}

func (t *Turn) firstName() string {
	if f := strings.Fields(t.Ev.Shopper.Name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// Now is the event's time in the store's time zone.
func (t *Turn) Now() time.Time { return t.Ev.Now.In(t.Env.Hours.Loc) }

var weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
var months = []string{"january", "february", "march", "april", "may", "june", "july", "august",
	"september", "october", "november", "december"}

// Day says when, a day, relative to now in the store's time zone: "today",
// "tomorrow", "on Friday", "on 3 December".
func (t *Turn) Day(when time.Time) string {
	now, w := t.Now(), when.In(t.Env.Hours.Loc)
	switch d := DaysBetween(now, w); {
	case d == 0:
		return t.T("date_today")
	case d == 1:
		return t.T("date_tomorrow")
	case d == -1:
		return t.T("date_yesterday")
	case d >= -6 && d <= 6:
		return t.T("date_weekday", "weekday", t.T("weekday_"+weekdays[w.Weekday()]))
	case w.Year() != now.Year():
		return t.T("date_date_year", "day", strconv.Itoa(w.Day()), "month", t.T("month_"+months[w.Month()-1]),
			"year", strconv.Itoa(w.Year()))
	default:
		return t.T("date_date", "day", strconv.Itoa(w.Day()), "month", t.T("month_"+months[w.Month()-1]))
	}
}

// DayTime says when, a moment: "tomorrow at 09:00".
func (t *Turn) DayTime(when time.Time) string {
	return t.T("date_time", "date", t.Day(when), "time", when.In(t.Env.Hours.Loc).Format("15:04"))
}

// DaysBetween counts calendar days from a to b, each in its own zone.
func DaysBetween(a, b time.Time) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// Money says an amount: "24.00 EUR", or "24,00 EUR" where a comma is the
// decimal mark.
func (t *Turn) Money(m orders.Money, currency string) string {
	s := FormatMoney(m)
	if t.Locale() == "es" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return strings.TrimSpace(s + " " + currency)
}

// FormatMoney writes minor units as a decimal: 10050 → "100.50".
func FormatMoney(m orders.Money) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return sign + strconv.FormatInt(int64(m)/100, 10) + "." + strconv.FormatInt(int64(m)%100+100, 10)[1:]
}
