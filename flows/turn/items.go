package turn

import (
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/flows/understand"
)

// Item payloads: one line of the order, or all of them.
const (
	PayloadItemPrefix = "ITEM:"
	PayloadAllItems   = "ITEM_ALL"
)

// ItemOptions offers the order's lines, and "all" when all is true.
func (t *Turn) ItemOptions(o Order, all bool) []Option {
	opts := make([]Option, 0, len(o.Items)+1)
	for _, it := range o.Items {
		opts = append(opts, Option{Title: it.Title, Payload: PayloadItemPrefix + it.SKU})
	}
	if all {
		opts = append(opts, Option{Title: t.T("all_items"), Payload: PayloadAllItems})
	}
	return opts
}

// PickItems returns the SKUs of the lines the shopper chose: tapped,
// numbered, "all", or named by words of their titles ("the blue vase").
func (t *Turn) PickItems(o Order, all bool) []string {
	var skus []string
	for _, p := range t.Picked() {
		switch {
		case p == PayloadAllItems && all:
			return allSKUs(o)
		case strings.HasPrefix(p, PayloadItemPrefix):
			if sku := strings.TrimPrefix(p, PayloadItemPrefix); !slices.Contains(skus, sku) {
				if _, ok := o.Item(sku); ok {
					skus = append(skus, sku)
				}
			}
		}
	}
	if len(skus) > 0 {
		return skus
	}
	if all && t.Msg.Has(understand.IntentAll) {
		return allSKUs(o)
	}
	// The lines whose titles share the most words with the message.
	best := 0
	for _, it := range o.Items {
		n := 0
		for _, tw := range understand.Words(it.Title) {
			if len(tw) < 3 || titleStopwords[tw] {
				continue
			}
			if slices.ContainsFunc(t.Msg.Words, func(w string) bool { return understand.Similar(singular(w), singular(tw)) }) {
				n++
			}
		}
		switch {
		case n > best:
			best, skus = n, []string{it.SKU}
		case n == best && n > 0:
			skus = append(skus, it.SKU)
		}
	}
	return skus
}

// singular drops a plural "s": "mugs" names the "Mug".
func singular(w string) string {
	if len(w) > 3 && strings.HasSuffix(w, "s") {
		return w[:len(w)-1]
	}
	return w
}

// titleStopwords say nothing about which line is meant.
var titleStopwords = map[string]bool{"the": true, "and": true, "for": true, "with": true, "los": true,
	"las": true, "del": true, "con": true, "para": true, "una": true, "uno": true, "set": true, "pack": true}

func allSKUs(o Order) []string {
	skus := make([]string, len(o.Items))
	for i, it := range o.Items {
		skus[i] = it.SKU
	}
	return skus
}

// Media returns the URLs of the photos, videos and files of the message.
func (t *Turn) Media() []string {
	var urls []string
	for _, a := range t.Ev.Attachments {
		switch a.Type {
		case "image", "video", "file":
			if a.URL != "" {
				urls = append(urls, a.URL)
			}
		}
	}
	return urls
}
