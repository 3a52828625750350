package expr

// Helpers shared by the string and date operators (string.go, string_regex.go, date*.go,
// timezone.go). Their names carry an "sd" (or "ds", "civil") prefix so they cannot
// collide with helpers of the other operator families in this package.

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sdNamedArgs returns the fields of an operator's object argument in order.
func sdNamedArgs(args any) (bson.D, bool) {
	d, ok := args.(bson.D)
	return d, ok
}

// sdAllConstant reports whether every non-nil node is a literal.
func sdAllConstant(ns ...node) bool {
	for _, n := range ns {
		if n == nil {
			continue
		}
		if _, ok := n.(literal); !ok {
			return false
		}
	}
	return true
}

// sdFold evaluates n once when all its operands are constants, as MongoDB's optimizer
// does; an error then surfaces at compile time, as it does in MongoDB.
func sdFold(n node, operands ...node) (node, error) {
	if !sdAllConstant(operands...) {
		return n, nil
	}
	v, err := n.eval(&ctx{})
	if err != nil {
		return nil, err
	}
	return literal{v}, nil
}

// sdRender renders v the way mongod prints values in error messages.
func sdRender(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return sdFormatG(x)
	case bool:
		return strconv.FormatBool(x)
	}
	if value.IsMissing(v) {
		return "MISSING"
	}
	return value.Format(v)
}

// sdCoerceToString converts v to a string as MongoDB's $toUpper, $substr and $strcasecmp
// do: null, undefined and missing become "", numbers and dates their text form.
func sdCoerceToString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bson.Symbol:
		return string(x), nil
	case bson.JavaScript:
		return string(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return sdFormatG(x), nil
	case bson.Decimal128:
		return x.String(), nil
	case bson.DateTime:
		s, err := sdFormatDate(isoFormatZ, int64(x), utcZone)
		if err != nil {
			return "", err
		}
		return s, nil
	case bson.Timestamp:
		t := utcZone.breakDown(int64(x.T) * 1000)
		return sdFormatFixed(&t) + ":" + strconv.FormatUint(uint64(x.I), 10), nil
	}
	if value.IsNullish(v) {
		return "", nil
	}
	return "", mongoerr.Newf(16007, "can't convert from BSON type %s to String", typeName(v))
}

// sdFormatFixed renders a local time as YYYY-MM-DDTHH:MM:SS.
func sdFormatFixed(t *localTime) string {
	var b strings.Builder
	sdPad(&b, t.year, 4)
	b.WriteByte('-')
	sdPad(&b, int64(t.month), 2)
	b.WriteByte('-')
	sdPad(&b, int64(t.day), 2)
	b.WriteByte('T')
	sdPad(&b, int64(t.hour), 2)
	b.WriteByte(':')
	sdPad(&b, int64(t.minute), 2)
	b.WriteByte(':')
	sdPad(&b, int64(t.second), 2)
	return b.String()
}

// sdFormatG formats a double like C's printf("%g"), which is how mongod's string streams
// print doubles: six significant digits, trailing zeros removed.
func sdFormatG(f float64) string {
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

// sdIntegral32 reports whether v is a number holding an integral value that fits an int32
// (MongoDB's Value::integral), and that value.
func sdIntegral32(v any) (int32, bool) {
	n, ok := sdIntegral64(v)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int32(n), true
}

// sdIntegral64 reports whether v is a number holding an integral value that fits an int64.
func sdIntegral64(v any) (int64, bool) {
	switch v.(type) {
	case int32, int64, float64, bson.Decimal128:
		return value.ToInt64(v)
	}
	return 0, false
}

// sdCoerceToLong converts a number to int64 as MongoDB's Value::coerceToLong does:
// doubles truncate toward zero, decimals round half to even.
func sdCoerceToLong(v any) (int64, error) {
	switch x := v.(type) {
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || x < -9.223372036854775808e18 || x >= 9.223372036854775808e18 {
			return 0, mongoerr.Newf(31109, "Can't coerce out of range value %s to long", sdFormatG(x))
		}
		return int64(x), nil
	case bson.Decimal128:
		d, err := value.ToDecimal(x)
		if err != nil || d.Form != apd.Finite {
			return 0, mongoerr.Newf(31109, "Can't coerce out of range value %s to long", x.String())
		}
		var r apd.Decimal
		ctx := *value.DecimalContext
		ctx.Rounding = apd.RoundHalfEven
		if _, err := ctx.RoundToIntegralValue(&r, d); err != nil {
			return 0, mongoerr.Newf(31109, "Can't coerce out of range value %s to long", x.String())
		}
		n, err := r.Int64()
		if err != nil {
			return 0, mongoerr.Newf(31109, "Can't coerce out of range value %s to long", x.String())
		}
		return n, nil
	}
	return 0, mongoerr.Newf(16004, "can't convert from BSON type %s to long", typeName(v))
}

// sdIsUTF8Continuation reports whether b is a UTF-8 continuation byte (10xxxxxx).
func sdIsUTF8Continuation(b byte) bool { return b&0xC0 == 0x80 }

// sdCodePointLen returns the length of the UTF-8 sequence a leading byte announces, as
// MongoDB computes it (the number of leading one bits, 1 for ASCII).
func sdCodePointLen(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b&0xE0 == 0xC0:
		return 2
	case b&0xF0 == 0xE0:
		return 3
	case b&0xF8 == 0xF0:
		return 4
	case b&0xFC == 0xF8:
		return 5
	case b&0xFE == 0xFC:
		return 6
	case b == 0xFE:
		return 7
	}
	return 8
}

// sdCountCodePoints counts the code points of s as MongoDB does: bytes that are not
// continuation bytes.
func sdCountCodePoints(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if !sdIsUTF8Continuation(s[i]) {
			n++
		}
	}
	return n
}
