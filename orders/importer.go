package orders

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/store"
)

// Import formats.
const (
	// FormatJSONL is one Order per line, as JSON with Order's field names
	// ("number", "items", "fulfillments", ...). Amounts are whole numbers
	// of minor units (1234 for 12.34), as Money is. Blank lines and lines
	// starting with "#" are skipped.
	FormatJSONL = "jsonl"
	// FormatCSV is one line item per row under a header row. Rows with the
	// same number make one order. See Parse for the columns.
	FormatCSV = "csv"
)

// maxErrors is how many problems Parse reports before it stops.
const maxErrors = 20

// maxLine bounds one JSONL line.
const maxLine = 1 << 20

// errTooMany ends a list of problems that was cut short.
var errTooMany = fmt.Errorf("too many problems; stopped after %d", maxErrors)

// Import reads orders from r in format (FormatJSONL or FormatCSV),
// validates all of them, and only then upserts each (see Upsert). It
// returns how many orders it upserted. Nothing is written when any order
// has a problem; pass a transaction as db for the writes themselves to be
// all or nothing. Relative times ("now-6d") resolve against now.
//
// Errors are as from Parse, or from the database.
func Import(ctx context.Context, db store.DBTX, r io.Reader, format string, now time.Time) (int, error) {
	orders, err := Parse(r, format, now)
	if err != nil {
		return 0, err
	}
	if err := upsertAll(ctx, db, orders); err != nil {
		return 0, err
	}
	return len(orders), nil
}

// upsertAll upserts orders by ascending number, so that two transactions
// upserting overlapping sets lock the rows in the same order and do not
// deadlock.
func upsertAll(ctx context.Context, db store.DBTX, orders []Order) error {
	sorted := slices.SortedFunc(slices.Values(orders), func(a, b Order) int { return strings.Compare(a.Number, b.Number) })
	for _, o := range sorted {
		if err := Upsert(ctx, db, o); err != nil {
			return err
		}
	}
	return nil
}

// Parse reads and validates orders in format without storing them.
//
// Times are RFC 3339 ("2026-03-01T15:04:05Z"), a date ("2026-03-01",
// midnight UTC) or, as a convenience for demo and test files, relative to
// now: "now", "now-6d", "now+2d", "now-36h", "now-1d12h" (units d, h, m,
// s; a day is 24 hours). An order number may be written with its "#".
//
// JSONL (FormatJSONL): one order object per line with the json names of
// Order, Item and Fulfillment; money in minor units; unknown fields are
// errors; a number may appear on one line only. Blank lines and lines
// starting with "#" are skipped.
//
// CSV (FormatCSV): a header row naming the columns, in any order:
//
//	number, customer_name, email, phone, currency, total, placed_at,
//	promised_by, status,                                  the order
//	sku, title, quantity, price, final_sale,              one line item
//	carrier, tracking_number, tracking_url, fulfillment_status,
//	shipped_at, delivered_at, last_scan_at, label_url     its shipment
//
// number, currency, total, placed_at, status, sku, quantity and price are
// required columns; the others may be left out. Each row is one line
// item; rows with the same number (adjacent or not) make one order, in
// row order. Order columns may be empty on an order's later rows, but if
// filled must repeat the first row's value. total and price are decimal
// amounts in the currency ("12.34", no thousands separators), converted
// exactly. final_sale is true/false, yes/no, 1/0 or empty (false). The
// shipment columns may be empty (the item has not shipped); rows with the
// same tracking_number, or with identical shipment columns when there is
// no tracking number, share one fulfillment. Values are trimmed.
//
// Problems are reported together, up to 20, as an errors.Join of
// *FieldError (matching ErrInvalid) whose At is "line N" (1-based; a
// CSV's header is line 1) and
// whose Field is a JSON path (JSONL) or a column name (CSV):
// `line 3: quantity: "two" is not a whole number`.
func Parse(r io.Reader, format string, now time.Time) ([]Order, error) {
	switch format {
	case FormatJSONL:
		return parseJSONL(r, now, true)
	case FormatCSV:
		return parseCSV(r, now)
	default:
		return nil, fmt.Errorf("unknown import format %q (jsonl or csv)", format)
	}
}

// problems collects what is wrong with an input, up to maxErrors, and
// lists them by line.
type problems struct {
	errs    []*FieldError
	lines   []int // of errs, for sorting; 0 when not from a line
	tooMany bool
}

func (p *problems) add(fe *FieldError) { p.addAt(0, fe) }

func (p *problems) addAt(line int, fe *FieldError) {
	if len(p.errs) == maxErrors {
		p.tooMany = true
		return
	}
	p.errs = append(p.errs, fe)
	p.lines = append(p.lines, line)
}

func (p *problems) addf(line int, field, format string, args ...any) {
	p.addAt(line, &FieldError{At: lineAt(line), Field: field, Problem: fmt.Sprintf(format, args...)})
}

func (p *problems) full() bool { return p.tooMany }

// err returns the problems as an errors.Join, by line, or nil.
func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	idx := make([]int, len(p.errs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return p.lines[a] - p.lines[b] })
	errs := make([]error, 0, len(idx)+1)
	for _, i := range idx {
		errs = append(errs, p.errs[i])
	}
	if p.tooMany {
		errs = append(errs, errTooMany)
	}
	return errors.Join(errs...)
}

func lineAt(n int) string { return "line " + strconv.Itoa(n) }

func parseJSONL(r io.Reader, now time.Time, relative bool) ([]Order, error) {
	var (
		out   []Order
		probs problems
		seen  = map[string]int{} // number → line
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() && !probs.full() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		v, err := decodeJSON(text)
		if err != nil {
			probs.addf(line, "", "%s", err)
			continue
		}
		o, errs := decodeOrder(v, now, relative)
		for _, fe := range errs {
			fe.At = lineAt(line)
			probs.addAt(line, fe)
		}
		if o.Number != "" {
			if first, ok := seen[o.Number]; ok {
				probs.addf(line, "number", "%q already appears on line %d", o.Number, first)
				continue
			}
			seen[o.Number] = line
		}
		if len(errs) == 0 {
			out = append(out, o)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			probs.addf(line+1, "", "longer than %d bytes", maxLine)
		} else {
			return nil, fmt.Errorf("read orders: %w", err)
		}
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeJSON decodes exactly one JSON value, keeping numbers as written.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: more than one value")
	}
	return v, nil
}

// CSV columns.
var (
	csvOrderColumns = []string{"number", "customer_name", "email", "phone", "currency", "total", "placed_at",
		"promised_by", "status"}
	csvItemColumns        = []string{"sku", "title", "quantity", "price", "final_sale"}
	csvFulfillmentColumns = []string{"carrier", "tracking_number", "tracking_url", "fulfillment_status",
		"shipped_at", "delivered_at", "last_scan_at", "label_url"}
	csvRequired = []string{"number", "currency", "total", "placed_at", "status", "sku", "quantity", "price"}
)

// csvOrder is an order being assembled from rows.
type csvOrder struct {
	order            Order
	line             int               // its first row
	values           map[string]string // order columns of the first row
	itemLines        []int
	fulfillmentLines []int
	fulfillmentVals  []map[string]string
	byTracking       map[string]int // tracking number or shipment columns → index
	// reported holds "line/column" of problems found while reading, so
	// that Validate does not report them again in other words.
	reported map[string]bool
}

func (co *csvOrder) bad(probs *problems, line int, column, format string, args ...any) {
	co.reported[lineAt(line)+"/"+column] = true
	probs.addf(line, column, format, args...)
}

func parseCSV(r io.Reader, now time.Time) ([]Order, error) {
	var probs problems
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.Join(&FieldError{At: lineAt(1), Problem: "the header row is missing"})
	}
	if err != nil {
		return nil, errors.Join(&FieldError{At: lineAt(1), Problem: csvProblem(err)})
	}
	col := map[string]int{}
	known := slices.Concat(csvOrderColumns, csvItemColumns, csvFulfillmentColumns)
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		switch _, dup := col[name]; {
		case !slices.Contains(known, name):
			probs.addf(1, "", "column %q is not known (known: %s)", name, strings.Join(known, ", "))
		case dup:
			probs.addf(1, "", "column %q appears twice", name)
		default:
			col[name] = i
		}
	}
	for _, name := range csvRequired {
		if _, ok := col[name]; !ok {
			probs.addf(1, "", "column %q is required", name)
		}
	}
	if err := probs.err(); err != nil {
		return nil, err
	}

	var (
		order  []string // numbers in first-seen order
		byNum  = map[string]*csvOrder{}
		fields = len(header)
	)
	cr.FieldsPerRecord = fields
	for !probs.full() {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			probs.addf(line, "", "%s", csvProblem(err))
			if errors.Is(err, csv.ErrFieldCount) {
				continue
			}
			break
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		number := NormalizeNumber(get("number"))
		co := byNum[number]
		if co == nil {
			co = &csvOrder{line: line, values: map[string]string{}, byTracking: map[string]int{}, reported: map[string]bool{}}
			byNum[number] = co
			order = append(order, number)
			readCSVOrder(co, get, now, &probs)
		} else {
			for _, name := range csvOrderColumns[1:] {
				if v := get(name); v != "" && v != co.values[name] {
					co.bad(&probs, line, name, "%q differs from line %d (%q)", v, co.line, co.values[name])
				}
			}
		}
		readCSVItem(co, line, get, &probs)
		readCSVFulfillment(co, line, get, now, &probs)
	}
	for _, num := range order {
		co := byNum[num]
		for _, fe := range FieldErrors(co.order.Validate()) {
			if line, fe := csvLocate(co, fe); !co.reported[fe.At+"/"+fe.Field] {
				probs.addAt(line, fe)
			}
		}
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	out := make([]Order, 0, len(order))
	for _, num := range order {
		out = append(out, byNum[num].order)
	}
	return out, nil
}

func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return "wrong number of columns (the header has a different count)"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

func readCSVOrder(co *csvOrder, get func(string) string, now time.Time, probs *problems) {
	for _, name := range csvOrderColumns {
		co.values[name] = get(name)
	}
	o := &co.order
	o.Number = NormalizeNumber(get("number"))
	o.CustomerName, o.Email, o.Phone = get("customer_name"), get("email"), get("phone")
	o.Currency, o.Status = get("currency"), get("status")
	if v := get("total"); v != "" {
		m, err := ParseMoney(v, o.Currency)
		if err != nil {
			co.bad(probs, co.line, "total", "%s", err)
		}
		o.Total = m
	} else {
		co.bad(probs, co.line, "total", "is required")
	}
	if t := csvTime(co, co.line, "placed_at", get, now, probs); t != nil {
		o.PlacedAt = *t
	}
	o.PromisedBy = csvTime(co, co.line, "promised_by", get, now, probs)
}

func readCSVItem(co *csvOrder, line int, get func(string) string, probs *problems) {
	it := Item{SKU: get("sku"), Title: get("title")}
	if v := get("quantity"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			co.bad(probs, line, "quantity", "%q is not a whole number", v)
		}
		it.Quantity = n
	}
	if v := get("price"); v != "" {
		m, err := ParseMoney(v, co.order.Currency)
		if err != nil {
			co.bad(probs, line, "price", "%s", err)
		}
		it.Price = m
	} else {
		co.bad(probs, line, "price", "is required")
	}
	switch v := strings.ToLower(get("final_sale")); v {
	case "", "false", "no", "n", "0":
	case "true", "yes", "y", "1":
		it.FinalSale = true
	default:
		co.bad(probs, line, "final_sale", "%q is not true or false", get("final_sale"))
	}
	co.order.Items = append(co.order.Items, it)
	co.itemLines = append(co.itemLines, line)
}

func readCSVFulfillment(co *csvOrder, line int, get func(string) string, now time.Time, probs *problems) {
	vals := map[string]string{}
	var key strings.Builder
	for _, name := range csvFulfillmentColumns {
		vals[name] = get(name)
		key.WriteString(vals[name])
		key.WriteByte(0)
	}
	if strings.Trim(key.String(), "\x00") == "" {
		return // not shipped
	}
	k := key.String()
	if tn := vals["tracking_number"]; tn != "" {
		k = "tracking:" + tn
	}
	if i, ok := co.byTracking[k]; ok {
		first := co.fulfillmentVals[i]
		for _, name := range csvFulfillmentColumns {
			if v := vals[name]; v != "" && v != first[name] {
				co.bad(probs, line, name, "%q differs from line %d (%q) for the same shipment", v, co.fulfillmentLines[i], first[name])
			}
		}
		return
	}
	f := Fulfillment{
		Carrier:        vals["carrier"],
		TrackingNumber: vals["tracking_number"],
		TrackingURL:    vals["tracking_url"],
		Status:         vals["fulfillment_status"],
		ShippedAt:      csvTime(co, line, "shipped_at", get, now, probs),
		DeliveredAt:    csvTime(co, line, "delivered_at", get, now, probs),
		LastScanAt:     csvTime(co, line, "last_scan_at", get, now, probs),
		LabelURL:       vals["label_url"],
	}
	co.byTracking[k] = len(co.order.Fulfillments)
	co.order.Fulfillments = append(co.order.Fulfillments, f)
	co.fulfillmentLines = append(co.fulfillmentLines, line)
	co.fulfillmentVals = append(co.fulfillmentVals, vals)
}

func csvTime(co *csvOrder, line int, name string, get func(string) string, now time.Time, probs *problems) *time.Time {
	v := get(name)
	if v == "" {
		return nil
	}
	t, err := parseTime(v, now, true)
	if err != nil {
		co.bad(probs, line, name, "%s", err)
		return nil
	}
	return &t
}

// csvLocate turns a Validate problem of an assembled order into the line
// and column it came from.
func csvLocate(co *csvOrder, fe *FieldError) (int, *FieldError) {
	line, field := co.line, fe.Field
	if rest, ok := strings.CutPrefix(field, "items["); ok {
		i, name := splitIndex(rest)
		if i >= 0 && i < len(co.itemLines) {
			line, field = co.itemLines[i], name
		}
	} else if rest, ok := strings.CutPrefix(field, "fulfillments["); ok {
		i, name := splitIndex(rest)
		if i >= 0 && i < len(co.fulfillmentLines) {
			line, field = co.fulfillmentLines[i], name
			if name == "status" {
				field = "fulfillment_status"
			}
		}
	}
	return line, &FieldError{At: lineAt(line), Field: field, Problem: fe.Problem}
}

// splitIndex splits "3].quantity" into 3 and "quantity".
func splitIndex(s string) (int, string) {
	num, name, ok := strings.Cut(s, "].")
	if !ok {
		return -1, ""
	}
	i, err := strconv.Atoi(num)
	if err != nil {
		return -1, ""
	}
	return i, name
}
