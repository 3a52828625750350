package value

import (
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FormatElem renders a field the way mongod prints a BSON element in error messages
// ("$size: -1", "0: \"abc\"").
func FormatElem(name string, v any) string {
	return name + ": " + Format(v)
}

// Format renders a value in mongod's diagnostic style, as its error messages show values:
// { a: 1, b: "x" }, [ 1.5, null ], ObjectId('…'), new Date(0), NumberDecimal("1.0").
func Format(v any) string {
	var b strings.Builder
	writeValue(&b, v, 0)
	return b.String()
}

func writeValue(b *strings.Builder, v any, depth int) {
	if depth > 20 {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil, bson.Null:
		b.WriteString("null")
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("nan.0")
		case math.IsInf(x, 1):
			b.WriteString("inf.0")
		case math.IsInf(x, -1):
			b.WriteString("-inf.0")
		case x == math.Trunc(x) && math.Abs(x) < 1e15:
			b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		default:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case bson.Decimal128:
		b.WriteString(`NumberDecimal("` + x.String() + `")`)
	case string:
		b.WriteString(strconv.Quote(x))
	case bson.Symbol:
		b.WriteString(strconv.Quote(string(x)))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case bson.D:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.Key + ": ")
			writeValue(b, e.Value, depth+1)
		}
		b.WriteString(" }")
	case bson.A:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e, depth+1)
		}
		b.WriteString(" ]")
	case bson.Regex:
		b.WriteString("/" + x.Pattern + "/" + x.Options)
	case bson.ObjectID:
		b.WriteString("ObjectId('" + x.Hex() + "')")
	case bson.DateTime:
		b.WriteString("new Date(" + strconv.FormatInt(int64(x), 10) + ")")
	case bson.MinKey:
		b.WriteString("MinKey")
	case bson.MaxKey:
		b.WriteString("MaxKey")
	case bson.Undefined:
		b.WriteString("undefined")
	case bson.Timestamp:
		b.WriteString("Timestamp(" + strconv.FormatUint(uint64(x.T), 10) + ", " + strconv.FormatUint(uint64(x.I), 10) + ")")
	case bson.Binary:
		b.WriteString("BinData(" + strconv.Itoa(int(x.Subtype)) + ", " + strings.ToUpper(hexString(x.Data)) + ")")
	default:
		b.WriteString("?")
	}
}

func hexString(data []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(data))
	for _, c := range data {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
