package orders

import (
	"fmt"
	"strings"
)

// MinorUnits returns how many decimal places the currency's minor unit
// has (ISO 4217): 2 for most, 0 for currencies such as JPY and KRW, 3 for
// BHD, JOD, KWD and a few others.
func MinorUnits(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// ParseMoney reads a decimal amount such as "12.34", "12" or "-0.5" in
// currency and returns it in minor units, exactly: the string is read
// digit by digit, never through a float. Digits beyond the currency's
// minor unit are accepted only when they are zeros ("12.340" USD).
func ParseMoney(s, currency string) (Money, error) {
	text := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" && frac == "" || !digitsOnly(whole) || !digitsOnly(frac) || hasPoint && frac == "" {
		return 0, fmt.Errorf("%q is not a decimal amount like 12.34", text)
	}
	places := MinorUnits(currency)
	if len(frac) > places {
		if strings.Trim(frac[places:], "0") != "" {
			return 0, fmt.Errorf("%q has more than %d decimal places for %s", text, places, currency)
		}
		frac = frac[:places]
	}
	frac += strings.Repeat("0", places-len(frac))
	var v int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if v > (1<<63-1-d)/10 {
			return 0, fmt.Errorf("%q is too large", text)
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return Money(v), nil
}

// Decimal formats m as a decimal amount in currency: Money(85000) in USD is
// "850.00", Money(1500) in JPY is "1500".
func (m Money) Decimal(currency string) string {
	places := MinorUnits(currency)
	sign := ""
	v := uint64(m)
	if m < 0 {
		sign, v = "-", uint64(-m)
	}
	digits := fmt.Sprintf("%0*d", places+1, v)
	if places == 0 {
		return sign + digits
	}
	return sign + digits[:len(digits)-places] + "." + digits[len(digits)-places:]
}

func digitsOnly(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
