package expr

// Type operators: $convert and its shortcuts ($toBool $toDate $toDecimal $toDouble $toInt
// $toLong $toObjectId $toString), $isNumber and $type. The conversions are those of the
// MongoDB 7.0 manual's $convert table; MongoDB 8's binData conversions and the 'format',
// 'base' and 'byteOrder' arguments are refused with NotImplemented.

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$convert", parseConvert)
	for name, target := range map[string]string{
		"$toBool": "bool", "$toDate": "date", "$toDecimal": "decimal", "$toDouble": "double",
		"$toInt": "int", "$toLong": "long", "$toObjectId": "objectId", "$toString": "string",
	} {
		register(name, convertShortcut(name, target))
	}
	registerUnary("$isNumber", func(v any) (any, error) { return value.IsNumber(v), nil })
	registerUnary("$type", func(v any) (any, error) { return typeName(v), nil })
}

type convertNode struct {
	input, to       node
	onError, onNull node // nil when not given
}

func convertShortcut(name, target string) parseFunc {
	return func(args any, sc *scope) (node, error) {
		ops, err := operands(args, sc)
		if err != nil {
			return nil, err
		}
		if len(ops) != 1 {
			return nil, mongoerr.Newf(50723, "%s requires a single argument, got %d", name, len(ops))
		}
		n := &convertNode{input: ops[0], to: literal{target}}
		return foldConstant(n, ops[0])
	}
}

func parseConvert(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$convert expects an object of named arguments but found: %s", typeName(args))
	}
	n := &convertNode{}
	for _, e := range d {
		var target *node
		switch e.Key {
		case "input":
			target = &n.input
		case "to":
			target = &n.to
		case "onError":
			target = &n.onError
		case "onNull":
			target = &n.onNull
		case "format", "base", "byteOrder":
			return nil, mongoerr.Newf(mongoerr.NotImplemented, "$convert's '%s' argument (MongoDB 8 binary and base conversions) is not supported", e.Key)
		default:
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$convert found an unknown argument: %s", e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*target = p
	}
	if n.input == nil {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Missing 'input' parameter to $convert")
	}
	if n.to == nil {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Missing 'to' parameter to $convert")
	}
	ops := []node{n.input, n.to}
	if n.onError != nil {
		ops = append(ops, n.onError)
	}
	if n.onNull != nil {
		ops = append(ops, n.onNull)
	}
	return foldConstant(n, ops...)
}

func (n *convertNode) eval(c *ctx) (any, error) {
	to, err := n.to.eval(c)
	if err != nil {
		return nil, err
	}
	in, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	var target int32
	hasTarget := !value.IsNullish(to)
	if hasTarget {
		if target, err = convertTarget(to); err != nil {
			return nil, err
		}
	}
	if value.IsNullish(in) {
		if n.onNull != nil {
			return n.onNull.eval(c)
		}
		return nil, nil
	}
	if !hasTarget {
		return nil, nil
	}
	out, err := convertValue(in, target)
	if err != nil && n.onError != nil && mongoerr.HasCode(err, mongoerr.ConversionFailure) {
		return n.onError.eval(c)
	}
	return out, err
}

// convertTarget reads $convert's 'to': a type name, a type number or (MongoDB 8) a
// document {type: ...}.
func convertTarget(to any) (int32, error) {
	switch x := to.(type) {
	case string:
		if x == "missing" {
			return value.TypeMissing, nil
		}
		t, ok := value.TypeNumberOf(x)
		if !ok {
			return 0, mongoerr.Newf(mongoerr.BadValue, "Unknown type name: %s", x)
		}
		return t, nil
	case bson.D:
		if _, ok := value.Lookup(x, "subtype"); ok {
			return 0, mongoerr.Newf(mongoerr.NotImplemented, "$convert to a binData subtype (MongoDB 8) is not supported")
		}
		if t, ok := value.Lookup(x, "type"); ok && len(x) == 1 {
			return convertTarget(t)
		}
	}
	if value.IsNumber(to) {
		t, ok := int32Of(to)
		if !ok {
			return 0, mongoerr.Newf(mongoerr.FailedToParse, "In $convert, numeric 'to' argument is not an integer")
		}
		if _, known := value.TypeNameOf(t); !known {
			return 0, mongoerr.Newf(mongoerr.FailedToParse, "In $convert, numeric value for 'to' does not correspond to a BSON type: %d", t)
		}
		return t, nil
	}
	return 0, mongoerr.Newf(mongoerr.FailedToParse, "$convert's 'to' argument must be a string or number, but is %s", typeName(to))
}

func conversionFailure(format string, args ...any) error {
	return mongoerr.Newf(mongoerr.ConversionFailure, format, args...)
}

func unsupportedConversion(in any, target int32) error {
	name, _ := value.TypeNameOf(target)
	if target == value.TypeMissing {
		name = "missing"
	}
	return conversionFailure("Unsupported conversion from %s to %s in $convert with no onError value", typeName(in), name)
}

// convertValue converts a non-null value to the BSON type target.
func convertValue(in any, target int32) (any, error) {
	switch target {
	case value.TypeBool:
		return convertToBool(in)
	case value.TypeDouble:
		return convertToDouble(in)
	case value.TypeString:
		return convertToString(in)
	case value.TypeObjectID:
		switch x := in.(type) {
		case bson.ObjectID:
			return x, nil
		case string:
			return parseObjectIDString(x)
		}
	case value.TypeDate:
		return convertToDate(in)
	case value.TypeInt:
		return convertToInt(in)
	case value.TypeLong:
		return convertToLong(in)
	case value.TypeDecimal:
		return convertToDecimal(in)
	}
	return nil, unsupportedConversion(in, target)
}

func convertToBool(in any) (any, error) {
	switch in.(type) {
	case bool, int32, int64, float64, bson.Decimal128:
		return value.Truthy(in), nil
	}
	return true, nil
}

func convertToDouble(in any) (any, error) {
	switch x := in.(type) {
	case float64:
		return x, nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case bson.DateTime:
		return float64(x), nil
	case bson.Decimal128:
		d := decimalOf(x)
		f := decimalToDouble(d)
		if d.Form == apd.Finite && (math.IsInf(f, 0) || !d.IsZero() && math.Abs(f) < 2.2250738585072014e-308) {
			return nil, conversionFailure("Conversion would overflow target type in $convert with no onError value: %s", x.String())
		}
		return f, nil
	case string:
		if err := rejectHex(x); err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(x, 64)
		if err != nil || strings.ContainsAny(x, "_xXpP") || strings.TrimSpace(x) != x {
			return nil, conversionFailure("Failed to parse number '%s' in $convert with no onError value: Did not consume whole string.", x)
		}
		return f, nil
	}
	return nil, unsupportedConversion(in, value.TypeDouble)
}

func rejectHex(s string) error {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return conversionFailure("Illegal hexadecimal input in $convert with no onError value: %s", s)
	}
	return nil
}

// parseIntString parses a base-10 integer with an optional sign, the only form $convert
// accepts for int and long.
func parseIntString(s string, bits int) (int64, error) {
	if err := rejectHex(s); err != nil {
		return 0, err
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if digits == "" {
		return 0, conversionFailure("Failed to parse number '%s' in $convert with no onError value: No digits", s)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, conversionFailure("Failed to parse number '%s' in $convert with no onError value: Bad digit \"%c\" while parsing %s", s, r, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, conversionFailure("Failed to parse number '%s' in $convert with no onError value: Overflow", s)
	}
	return n, nil
}

// checkedTrunc converts a double to an integer type of the given bounds, truncating toward
// zero, or fails as mongod does for NaN, infinities and values out of range.
func checkedTrunc(f float64, lo, hiExclusive float64) (int64, error) {
	if math.IsNaN(f) {
		return 0, conversionFailure("Attempt to convert NaN value to integer type in $convert with no onError value")
	}
	if math.IsInf(f, 0) {
		return 0, conversionFailure("Attempt to convert infinity value to integer type in $convert with no onError value")
	}
	if f < lo || f >= hiExclusive {
		return 0, conversionFailure("Conversion would overflow target type in $convert with no onError value: %s", formatDouble(f))
	}
	return int64(f), nil
}

// decimalToIntChecked converts a decimal to an integer in [lo, hi], truncating toward zero.
func decimalToIntChecked(x bson.Decimal128, lo, hi int64) (int64, error) {
	d := decimalOf(x)
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return 0, conversionFailure("Attempt to convert NaN value to integer type in $convert with no onError value")
	case apd.Infinite:
		return 0, conversionFailure("Attempt to convert infinity value to integer type in $convert with no onError value")
	}
	n, ok := decimalToInt64(d, apd.RoundDown)
	if !ok || n < lo || n > hi {
		return 0, conversionFailure("Conversion would overflow target type in $convert with no onError value: %s", x.String())
	}
	return n, nil
}

func convertToInt(in any) (any, error) {
	switch x := in.(type) {
	case int32:
		return x, nil
	case int64:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, conversionFailure("Conversion would overflow target type in $convert with no onError value: ")
		}
		return int32(x), nil
	case float64:
		n, err := checkedTrunc(x, math.MinInt32, math.MaxInt32+1)
		return int32(n), err
	case bool:
		if x {
			return int32(1), nil
		}
		return int32(0), nil
	case bson.Decimal128:
		n, err := decimalToIntChecked(x, math.MinInt32, math.MaxInt32)
		return int32(n), err
	case string:
		n, err := parseIntString(x, 32)
		return int32(n), err
	}
	return nil, unsupportedConversion(in, value.TypeInt)
}

func convertToLong(in any) (any, error) {
	switch x := in.(type) {
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		return checkedTrunc(x, -9.223372036854775808e18, 9.223372036854775808e18)
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case bson.DateTime:
		return int64(x), nil
	case bson.Decimal128:
		return decimalToIntChecked(x, math.MinInt64, math.MaxInt64)
	case string:
		return parseIntString(x, 64)
	}
	return nil, unsupportedConversion(in, value.TypeLong)
}

func convertToDecimal(in any) (any, error) {
	switch x := in.(type) {
	case bson.Decimal128:
		return x, nil
	case int32, int64, float64:
		return dec128(decimalOf(x)), nil
	case bool:
		if x {
			return dec128(apd.New(1, 0)), nil
		}
		return dec128(apd.New(0, 0)), nil
	case bson.DateTime:
		return dec128(apd.New(int64(x), 0)), nil
	case string:
		if err := rejectHex(x); err != nil {
			return nil, err
		}
		d, _, err := apd.NewFromString(x)
		if err != nil || strings.TrimSpace(x) != x {
			return nil, conversionFailure("Failed to parse number '%s' in $convert with no onError value: Failed to parse string to decimal", x)
		}
		return dec128(d), nil
	}
	return nil, unsupportedConversion(in, value.TypeDecimal)
}

func convertToDate(in any) (any, error) {
	switch x := in.(type) {
	case bson.DateTime:
		return x, nil
	case int64:
		return bson.DateTime(x), nil
	case float64:
		n, err := checkedTrunc(x, -9.223372036854775808e18, 9.223372036854775808e18)
		return bson.DateTime(n), err
	case bson.Decimal128:
		n, err := decimalToIntChecked(x, math.MinInt64, math.MaxInt64)
		return bson.DateTime(n), err
	case bson.ObjectID:
		return bson.DateTime(x.Timestamp().Unix() * 1000), nil
	case bson.Timestamp:
		return bson.DateTime(int64(x.T) * 1000), nil
	case string:
		return parseDateString(x)
	}
	return nil, unsupportedConversion(in, value.TypeDate)
}

func convertToString(in any) (any, error) {
	switch x := in.(type) {
	case string:
		return x, nil
	case float64:
		switch {
		case math.IsInf(x, 1):
			return "Infinity", nil
		case math.IsInf(x, -1):
			return "-Infinity", nil
		case math.IsNaN(x):
			return "NaN", nil
		case x == 0 && math.Signbit(x):
			return "-0", nil
		}
		return formatDouble(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case bson.Decimal128:
		return x.String(), nil
	case bson.ObjectID:
		return x.Hex(), nil
	case bson.DateTime:
		return formatISODate(x)
	}
	return nil, unsupportedConversion(in, value.TypeString)
}

// formatDouble renders a double as mongod's string streams do (C's %g: six significant
// digits, exponent form outside 1e-5..1e6).
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// formatISODate renders a date as %Y-%m-%dT%H:%M:%S.%LZ in UTC; mongod refuses years
// outside 0..9999.
func formatISODate(d bson.DateTime) (string, error) {
	t := time.UnixMilli(int64(d)).UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return "", mongoerr.Newf(18537, "Could not convert date to string: date component was outside the supported range of 0-9999: %d", t.Year())
	}
	return t.Format("2006-01-02T15:04:05.000Z"), nil
}

func parseObjectIDString(s string) (any, error) {
	if len(s) != 24 {
		return nil, conversionFailure("Failed to parse objectId '%s' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found %d", s, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, conversionFailure("Failed to parse objectId '%s' in $convert with no onError value: Invalid character found in hex string: %s", s, s)
	}
	var oid bson.ObjectID
	copy(oid[:], b)
	return oid, nil
}

// parseDateString parses the ISO 8601 forms a date string may take in $convert:
// YYYY-MM-DD, optionally followed by T or a space, hh:mm[:ss[.fff]], and a zone (Z, ±hh,
// ±hh:mm or ±hhmm). A string without a zone is UTC.
func parseDateString(s string) (any, error) {
	fail := func() (any, error) {
		return nil, conversionFailure("Error parsing date string '%s'", s)
	}
	p := dateScanner{s: s}
	year, ok1 := p.digits(4)
	ok2 := p.lit('-')
	month, ok3 := p.digits(2)
	ok4 := p.lit('-')
	day, ok5 := p.digits(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month < 1 || month > 12 || day < 1 || day > 31 {
		return fail()
	}
	var hour, minute, sec, nanos int
	offset := 0
	if !p.done() {
		if !p.lit('T') && !p.lit(' ') {
			return fail()
		}
		var ok bool
		if hour, ok = p.digits(2); !ok || !p.lit(':') {
			return fail()
		}
		if minute, ok = p.digits(2); !ok {
			return fail()
		}
		if p.lit(':') {
			if sec, ok = p.digits(2); !ok {
				return fail()
			}
			if p.lit('.') {
				start := p.i
				frac := 0
				n := 0
				for !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
					if n < 9 {
						frac = frac*10 + int(p.s[p.i]-'0')
						n++
					}
					p.i++
				}
				if p.i == start {
					return fail()
				}
				for ; n < 9; n++ {
					frac *= 10
				}
				nanos = frac
			}
		}
		if hour > 23 || minute > 59 || sec > 59 {
			return fail()
		}
		if !p.done() {
			switch {
			case p.lit('Z'):
			case p.peek('+') || p.peek('-'):
				sign := 1
				if p.s[p.i] == '-' {
					sign = -1
				}
				p.i++
				oh, ok := p.digits(2)
				if !ok {
					return fail()
				}
				om := 0
				if !p.done() {
					p.lit(':')
					if om, ok = p.digits(2); !ok {
						return fail()
					}
				}
				offset = sign * (oh*3600 + om*60)
			default:
				return fail()
			}
		}
	}
	if !p.done() {
		return fail()
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC)
	if t.Day() != day {
		return fail()
	}
	return bson.DateTime(t.UnixMilli() - int64(offset)*1000), nil
}

// dateScanner reads a date string left to right.
type dateScanner struct {
	s string
	i int
}

func (p *dateScanner) done() bool { return p.i >= len(p.s) }

func (p *dateScanner) peek(b byte) bool { return p.i < len(p.s) && p.s[p.i] == b }

func (p *dateScanner) lit(b byte) bool {
	if p.peek(b) {
		p.i++
		return true
	}
	return false
}

func (p *dateScanner) digits(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for _, r := range p.s[p.i : p.i+n] {
		if r < '0' || r > '9' {
			return 0, false
		}
		v = v*10 + int(r-'0')
	}
	p.i += n
	return v, true
}
