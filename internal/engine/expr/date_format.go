package expr

import (
	"strconv"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
)

// Default formats of $dateToString: with a "Z" in UTC, without one in any other zone.
const (
	isoFormatZ    = "%Y-%m-%dT%H:%M:%S.%LZ"
	isoFormatNonZ = "%Y-%m-%dT%H:%M:%S.%L"
)

// Specifiers $dateToString accepts after '%' (besides '%' itself).
const toStringSpecifiers = "bBdGHjLmMSwuUVYzZ"

// Specifiers $dateFromString accepts after '%' (besides '%' itself).
const fromStringSpecifiers = "bBdGHjLmMSuVYzZ"

var sdMonthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

// validateDateFormat checks that every '%' in format is followed by an allowed specifier.
func validateDateFormat(format, allowed string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i == len(format) {
			return mongoerr.Newf(18535, "Unmatched '%%' at end of format string")
		}
		if format[i] != '%' && strings.IndexByte(allowed, format[i]) < 0 {
			return mongoerr.Newf(18536, "Invalid format character '%%%c' in format string", format[i])
		}
	}
	return nil
}

// sdPad writes n zero-padded to width digits.
func sdPad(b *strings.Builder, n int64, width int) {
	var buf [24]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.Write(s)
}

// sdPadChecked is sdPad for the components MongoDB only prints in the range 0..9999.
func sdPadChecked(b *strings.Builder, n int64, width int) error {
	if n < 0 || n > 9999 {
		return mongoerr.Newf(18537, "Could not convert date to string: date component was outside the supported range of 0-9999: %d", n)
	}
	sdPad(b, n, width)
	return nil
}

// sdFormatDate renders the instant ms in zone z with a validated $dateToString format.
func sdFormatDate(format string, ms int64, z *tzone) (string, error) {
	t := z.breakDown(ms)
	var b strings.Builder
	b.Grow(len(format) + 16)
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(format) {
			return "", mongoerr.Newf(18535, "Unmatched '%%' at end of format string")
		}
		var err error
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 'b':
			b.WriteString(sdMonthNames[t.month-1][:3])
		case 'B':
			b.WriteString(sdMonthNames[t.month-1])
		case 'Y':
			err = sdPadChecked(&b, t.year, 4)
		case 'm':
			err = sdPadChecked(&b, int64(t.month), 2)
		case 'd':
			err = sdPadChecked(&b, int64(t.day), 2)
		case 'H':
			err = sdPadChecked(&b, int64(t.hour), 2)
		case 'M':
			err = sdPadChecked(&b, int64(t.minute), 2)
		case 'S':
			err = sdPadChecked(&b, int64(t.second), 2)
		case 'L':
			err = sdPadChecked(&b, int64(t.ms), 3)
		case 'j':
			err = sdPadChecked(&b, int64(t.yearDay()), 3)
		case 'w':
			err = sdPadChecked(&b, int64(t.weekday()+1), 1)
		case 'U':
			err = sdPadChecked(&b, int64(t.week()), 2)
		case 'G':
			y, _ := t.isoWeek()
			err = sdPadChecked(&b, y, 4)
		case 'V':
			_, w := t.isoWeek()
			err = sdPadChecked(&b, int64(w), 2)
		case 'u':
			err = sdPadChecked(&b, int64(t.isoWeekday()), 1)
		case 'z':
			off := t.offset
			if off < 0 {
				b.WriteByte('-')
				off = -off
			} else {
				b.WriteByte('+')
			}
			sdPad(&b, off/3600, 2)
			sdPad(&b, off/60%60, 2)
		case 'Z':
			b.WriteString(strconv.FormatInt(t.offset/60, 10))
		default:
			return "", mongoerr.Newf(18536, "Invalid format character '%%%c' in format string", format[i])
		}
		if err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// dateToStringNode is {$dateToString: {date, format, timezone, onNull}}.
type dateToStringNode struct {
	date, format, onNull node
	tz                   timezoneArg
}

func parseDateToString(args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(18629, "$dateToString only supports an object as its argument")
	}
	n := &dateToStringNode{}
	var tzNode node
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "date":
			dst = &n.date
		case "format":
			dst = &n.format
		case "timezone":
			dst = &tzNode
		case "onNull":
			dst = &n.onNull
		default:
			return nil, mongoerr.Newf(18534, "Unrecognized argument to $dateToString: %s", e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	if n.date == nil {
		return nil, mongoerr.Newf(18628, "Missing 'date' parameter to $dateToString")
	}
	var err error
	if n.tz, err = compileTimezone(tzNode, sdAllConstant(n.date, n.format, tzNode, n.onNull)); err != nil {
		return nil, err
	}
	return sdFold(n, n.date, n.format, tzNode, n.onNull)
}

func (n *dateToStringNode) eval(c *ctx) (any, error) {
	date, err := n.date.eval(c)
	if err != nil {
		return nil, err
	}
	format, err := evalDateFormat(c, n.format, "$dateToString", 18533, toStringSpecifiers)
	if err != nil {
		return nil, err
	}
	z, err := n.tz.resolve(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(date) {
		if n.onNull != nil {
			return n.onNull.eval(c)
		}
		return nil, nil
	}
	if z == nil {
		return nil, nil
	}
	f := isoFormatZ
	if n.format != nil {
		if value.IsNullish(format) {
			return nil, nil
		}
		f = format.(string)
	} else if !z.isUTC() {
		f = isoFormatNonZ
	}
	ms, err := sdCoerceToDate(date)
	if err != nil {
		return nil, err
	}
	return sdFormatDate(f, ms, z)
}

// evalDateFormat evaluates the optional format argument of $dateToString or
// $dateFromString: nil when absent or nullish, else a string whose specifiers are all in
// specs. code is the operator's error for a format that is not a string.
func evalDateFormat(c *ctx, format node, op string, code int32, specs string) (any, error) {
	if format == nil {
		return nil, nil
	}
	v, err := format.eval(c)
	if err != nil || value.IsNullish(v) {
		return v, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, mongoerr.Newf(code, "%s requires that 'format' be a string, found: %s with value %s", op, typeName(v), sdRender(v))
	}
	if err := validateDateFormat(s, specs); err != nil {
		return nil, err
	}
	return v, nil
}
