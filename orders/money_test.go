package orders_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/orders"
)

func TestParseMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, currency string
		want         orders.Money
		err          string
	}{
		{"12.34", "USD", 1234, ""},
		{"0.29", "USD", 29, ""}, // 0.29*100 is 28.999... as a float
		{"19.99", "EUR", 1999, ""},
		{"12", "USD", 1200, ""},
		{"12.3", "USD", 1230, ""},
		{".5", "USD", 50, ""},
		{"850.00", "USD", 85000, ""},
		{"12.340", "USD", 1234, ""},
		{"-3.10", "USD", -310, ""},
		{"1500", "JPY", 1500, ""},
		{"1500.0", "JPY", 1500, ""},
		{"1.234", "KWD", 1234, ""},
		{"92233720368547758.07", "USD", 9223372036854775807, ""},
		{"12.345", "USD", 0, `"12.345" has more than 2 decimal places for USD`},
		{"1500.5", "JPY", 0, `"1500.5" has more than 0 decimal places for JPY`},
		{"92233720368547758.08", "USD", 0, `"92233720368547758.08" is too large`},
		{"", "USD", 0, `"" is not a decimal amount like 12.34`},
		{"12.", "USD", 0, `"12." is not a decimal amount like 12.34`},
		{"1,234.00", "USD", 0, `"1,234.00" is not a decimal amount like 12.34`},
		{"1e3", "USD", 0, `"1e3" is not a decimal amount like 12.34`},
		{"$12", "USD", 0, `"$12" is not a decimal amount like 12.34`},
		{"-", "USD", 0, `"-" is not a decimal amount like 12.34`},
		{"+1", "USD", 0, `"+1" is not a decimal amount like 12.34`},
	}
	for _, tt := range tests {
		got, err := orders.ParseMoney(tt.in, tt.currency)
		if tt.err != "" {
			require.EqualError(t, err, tt.err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

func TestMoneyDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m        orders.Money
		currency string
		want     string
	}{
		{85000, "USD", "850.00"},
		{5, "USD", "0.05"},
		{0, "EUR", "0.00"},
		{-310, "USD", "-3.10"},
		{1500, "JPY", "1500"},
		{1234, "KWD", "1.234"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.m.Decimal(tt.currency))
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12.34", "0", ".5", "-1.00", "1e3", "99999999999999999999"} {
		f.Add(s, "USD")
	}
	f.Add("1500", "JPY")
	f.Add("1.234", "KWD")
	f.Fuzz(func(t *testing.T, s, currency string) {
		m, err := orders.ParseMoney(s, currency)
		if err != nil {
			return
		}
		// What parses formats back to an amount that parses the same.
		again, err := orders.ParseMoney(m.Decimal(currency), currency)
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}
